// The smallest express app that answers GET /addr: the benchmark's baseline.
import express from 'express';

const app = express();
app.get('/addr', (_req, res) => res.type('text/plain').send('10.1.0.8'));
const server = app.listen(0, '127.0.0.1', () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`level=info msg=listening http=127.0.0.1:${port}`);
});
process.on('SIGTERM', () => server.close());
