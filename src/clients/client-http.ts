// client-http URL: GET the URL in a loop and print which pod answered.
// This file only wires: the command line is parsed in client-http-args.ts, the requests are
// addr-request.ts, the loop is loop.ts.
import { hideBin } from 'yargs/helpers';
import { optionsOrExit } from '../common/cli.js';
import { AddrRequests } from './addr-request.js';
import { parseClientHttpArgs } from './client-http-args.js';
import { callUntilStopped } from './loop.js';

const options = optionsOrExit('client-http', () => parseClientHttpArgs(hideBin(process.argv), process.env));
const requests = new AddrRequests(options.url, { ...options, overlapping: 'perSecond' in options.pace });
await callUntilStopped(requests.ask, options);
requests.close();
