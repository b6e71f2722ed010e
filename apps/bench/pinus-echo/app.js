// pinus 1.7's side of the side-by-side runs (see README, Performance): a connector with the
// hybrid (pomelo) protocol on port 3350 (TCP and WebSocket) and the bench routes of
// app/servers/connector/handler/bench.js.
// Not built or run by CI; install its two packages here first:
//   npm install --no-save pinus@1.7.4 reflect-metadata
require('reflect-metadata'); // pinus' rpc decorators need it
const pinus = require('pinus').pinus;

const app = pinus.createApp();
app.set('name', 'pinus-echo');
app.configure('development', 'connector', function () {
  app.set('connectorConfig', {
    connector: pinus.connectors.hybridconnector,
    heartbeat: 30,
    setNoDelay: true, // as nanocaf: without it a push and a reply to one client wait for an ACK
    useDict: false,
    useProtobuf: false,
  });
});
app.start();
