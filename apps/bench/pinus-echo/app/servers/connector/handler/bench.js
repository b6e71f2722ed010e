// Route connector.bench.echo: the request's body back, as nanocaf's bench.echo.
class Handler {
  constructor(app) {
    this.app = app;
  }
  async echo(msg) {
    return msg;
  }
}
exports.default = function (app) {
  return new Handler(app);
};
