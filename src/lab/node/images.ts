// The images the lab can run: the kit's own, each an executable built in out/ from the same code the
// image bundles (Dockerfile.* copy out/). A pod with any other image cannot start here, and says so as a
// kubelet does when it cannot pull one.

export const IMAGES = ['addr-server', 'addr-client-grpc', 'addr-client-http'] as const;
export type Image = (typeof IMAGES)[number];

export interface Programs {
  server: string;
  clientGrpc: string;
  clientHttp: string;
}

/** `addr-server`, `registry.example/addr-server:tag`, `addr-server@sha256:…` → addr-server. */
export function imageName(reference: string | undefined): string {
  const withoutDigest = (reference ?? '').split('@')[0] ?? '';
  const last = withoutDigest.split('/').at(-1) ?? '';
  return last.replace(/:[^:]*$/, '');
}

export function programFor(
  reference: string | undefined,
  programs: Programs,
): { image: Image; path: string } | undefined {
  const name = imageName(reference);
  switch (name) {
    case 'addr-server':
      return { image: name, path: programs.server };
    case 'addr-client-grpc':
      return { image: name, path: programs.clientGrpc };
    case 'addr-client-http':
      return { image: name, path: programs.clientHttp };
    default:
      return undefined;
  }
}
