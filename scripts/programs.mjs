// The programs the build writes to out/: out/<name> runs the bundle of its entry file. The build reads
// this list, and so do the tests that check what ships (each Dockerfile target runs one of these).
export const programs = {
  server: 'src/server/main.ts',
  'client-http': 'src/clients/client-http.ts',
  'client-grpc': 'src/clients/client-grpc.ts',
  lab: 'src/lab/main.ts',
  mesh: 'src/lab/mesh-main.ts',
  'xds-control-plane': 'src/xds/main.ts',
};
