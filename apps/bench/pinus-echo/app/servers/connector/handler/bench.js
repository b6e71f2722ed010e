// Routes connector.bench.echo, .join and .broadcast: nanocaf's bench.echo (the request's body
// back), bench.join (into one group, {"code":0,"members":N}) and bench.broadcast (onBroadcast
// to the group, {"code":0}), written the way a pinus application does them: a bound uid and
// the channel service.
let nextUid = 1;

class Handler {
  constructor(app) {
    this.app = app;
  }
  async echo(msg) {
    return msg;
  }
  async join(msg, session) {
    if (!session.uid)
      await session.abind(String(nextUid++));
    const channel = this.app.get('channelService').getChannel('bench', true);
    channel.add(session.uid, this.app.getServerId());
    session.on('closed', () => channel.leave(session.uid, this.app.getServerId()));
    return {code: 0, members: channel.getUserAmount()};
  }
  async broadcast(msg) {
    await this.app.get('channelService').getChannel('bench', true).apushMessage('onBroadcast', msg);
    return {code: 0};
  }
}
exports.default = function (app) {
  return new Handler(app);
};
