// client-grpc TARGET: call addr.Addr/GetAddr in a loop on one channel and print which pod answered.
// A failed call (a pod went away, no pod ready) prints an error; the channel reconnects with backoff.
// This file only wires: the command line is parsed in client-grpc-args.ts, the channel is addr-channel.ts,
// the loop is loop.ts.
import { hideBin } from 'yargs/helpers';
import { errorText, exitOnUsageError, optionsOrExit, UsageError } from '../common/cli.js';
import { loadAddrProto } from '../common/proto.js';
import { AddrChannel } from './addr-channel.js';
import { parseClientGrpcArgs } from './client-grpc-args.js';
import { callUntilStopped } from './loop.js';

const options = optionsOrExit('client-grpc', () => parseClientGrpcArgs(hideBin(process.argv), process.env));

// The xDS plugin and the Kubernetes client are loaded only for their targets: both are slow to import.
if (options.scheme === 'xds') (await import('@grpc/grpc-js-xds')).register();
if (options.scheme === 'k8s') await (await import('./k8s-resolver.js')).registerK8sResolver();

let channel: AddrChannel;
try {
  channel = new AddrChannel(loadAddrProto().Addr, options.target, options);
} catch (error) {
  exitOnUsageError('client-grpc', new UsageError(`bad TARGET ${options.target}: ${errorText(error)}`));
}

await callUntilStopped(channel.ask, options);
channel.close();
// The xDS client keeps its stream to the control plane open after the channel closes, and offers no
// way to close it: once everything else is done, end the process (a timer that holds nothing open).
if (options.scheme === 'xds') setTimeout(() => process.exit(), 100).unref();
