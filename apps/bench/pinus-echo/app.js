// pinus 1.7's side of the side-by-side echo (see README, Performance): a connector with the
// hybrid (pomelo) protocol on TCP 3350 and a handler that returns what it gets, as bench.echo.
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
    useDict: false,
    useProtobuf: false,
  });
});
app.start();
