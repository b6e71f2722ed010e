// Bots that play tic-tac-toe through a real cluster (scripts/cluster.sh up --game): each game
// has its two players on different gates. Every reply and every onState push is checked
// against the game's own rules; a game ends normally (a line, a draw) or, when its backend is
// killed, with a clear error to both players.
//   node bots.js --base PORT --run DIR --games N [--kill-after MS] [--move-pause MS]
'use strict';
const fs = require('fs');
const path = require('path');
const { NanoClient } = require('../../apps/client-js/nanocaf.js');

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) =>
  a.startsWith('--') ? acc.concat([[a.slice(2), all[i + 1]]]) : acc, []));
const base = Number(args.base), games = Number(args.games || 200);
const killAfter = args['kill-after'] ? Number(args['kill-after']) : null;
const movePause = Number(args['move-pause'] || 0);
const gates = [`tcp://127.0.0.1:${base + 33}`, `tcp://127.0.0.1:${base + 34}`];

const errors = []; // state errors: anything a player saw that the rules do not allow
function stateError(game, text) { errors.push(`game ${game.n}: ${text}`); }

const LINES = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 3, 6], [1, 4, 7], [2, 5, 8], [0, 4, 8], [2, 4, 6]];
function winner(board) {
  for (const [a, b, c] of LINES)
    if (board[a] !== '.' && board[a] === board[b] && board[b] === board[c]) return board[a];
  return board.includes('.') ? null : 'draw';
}
const sleep = ms => new Promise(r => setTimeout(r, ms));

async function connect(url, name) {
  const c = new NanoClient({ url, timeout: 10000 });
  await c.connect();
  const me = await c.request('lobby.login', { name });
  if (!(me.uid > 0) || me.name !== name) throw new Error(`login answered ${JSON.stringify(me)}`);
  return c;
}

// One player: checks each onState of its room, moves on its turn, resolves when the game ends.
function play(game, client, seat) {
  const p = { seat, board: '.........', over: null, error: null, errorAt: 0 };
  p.done = new Promise(resolve => {
    p.finish = resolve;
    client.on('onState', async st => {
      if (st.roomId !== game.roomId || p.over || p.error) return;
      const placed = [...st.board].filter(c => c !== '.').length;
      const before = [...p.board].filter(c => c !== '.').length;
      for (let i = 0; i < 9; i++)
        if (p.board[i] !== '.' && st.board[i] !== p.board[i]) stateError(game, `cell ${i} changed`);
      if (placed < before || placed > before + 1) stateError(game, `${before} -> ${placed} marks`);
      p.board = st.board;
      if (st.status === 'over') {
        const w = winner(st.board);
        if (st.reason === 'line' && st.result !== w) stateError(game, `result ${st.result}, board says ${w}`);
        if (st.reason === 'draw' && w !== 'draw') stateError(game, `draw on ${st.board}`);
        if (st.reason !== 'line' && st.reason !== 'draw') stateError(game, `ended by ${st.reason}`);
        p.over = st;
        resolve();
        return;
      }
      if (st.status !== 'playing') return;
      const xs = [...st.board].filter(c => c === 'X').length, os = placed - xs;
      if (st.turn !== (xs === os ? 'X' : 'O')) stateError(game, `turn ${st.turn} on ${st.board}`);
      if (st.turn !== seat) return;
      if (movePause) await sleep(movePause);
      const free = [...st.board].map((c, i) => (c === '.' ? i : -1)).filter(i => i >= 0);
      const cell = free[(game.n + placed) % free.length];
      try {
        const r = await client.request('room.move', { roomId: game.roomId, cell });
        if (r.ok !== true) stateError(game, `move answered ${JSON.stringify(r)}`);
      } catch (err) {
        if (err.code === 503) lost(err.message);
        else stateError(game, `move ${cell} refused: ${err.code} ${err.message}`);
      }
    });
    const lost = text => { if (!p.error && !p.over) { p.error = text; p.errorAt = Date.now(); resolve(); } };
    client.on('onError', m => { if (m.code === 503) lost(m.error); else stateError(game, `onError ${JSON.stringify(m)}`); });
    client.on('close', () => lost('connection closed'));
  });
  return p;
}

async function oneGame(n) {
  const game = { n };
  const creator = await connect(gates[n % 2], `a${n}`);
  const joiner = await connect(gates[(n + 1) % 2], `b${n}`);
  const room = await creator.request('lobby.create', {});
  game.roomId = room.roomId;
  // The creator joins first (X), then the player on the other gate (O).
  const pa = play(game, creator, 'X'), pb = play(game, joiner, 'O');
  const ja = await creator.request('room.join', { roomId: game.roomId });
  if (ja.seat !== 'X') stateError(game, `creator got seat ${ja.seat}`);
  const jb = await joiner.request('room.join', { roomId: game.roomId });
  if (jb.seat !== 'O') stateError(game, `joiner got seat ${jb.seat}`);
  await Promise.all([pa.done, pb.done]);
  game.players = [pa, pb];
  game.clients = [creator, joiner];
  return game;
}

async function main() {
  const started = Date.now();
  let killedAt = null;
  if (killAfter !== null)
    setTimeout(() => {
      const pid = Number(fs.readFileSync(path.join(args.run, 'backend1.pid'), 'utf8'));
      process.kill(pid, 'SIGKILL');
      killedAt = Date.now();
      console.log(`killed backend1 (pid ${pid}) at ${killedAt - started} ms`);
    }, killAfter);
  const results = await Promise.all(Array.from({ length: games }, (_, n) => oneGame(n)));
  let normal = 0, lost = 0, late = 0;
  for (const g of results) {
    const [a, b] = g.players;
    if (a.over && b.over) {
      normal++;
      if (a.over.result !== b.over.result || a.board !== b.board) stateError(g, 'players disagree on the end');
      if (killedAt !== null && a.over && false) late++;
    } else if (a.error && b.error) {
      lost++;
      if (killedAt === null) stateError(g, `error without a kill: ${a.error}`);
      const slowest = Math.max(a.errorAt, b.errorAt) - killedAt;
      if (slowest > 2000) { late++; stateError(g, `error ${slowest} ms after the kill`); }
    } else {
      stateError(g, `one player ended (${a.over ? 'over' : a.error}), the other (${b.over ? 'over' : b.error})`);
    }
  }
  await Promise.all(results.flatMap(g => g.clients.map(c => c.close().catch(() => {}))));
  console.log(`${games} games in ${Date.now() - started} ms: ${normal} ended normally, ${lost} lost with their backend, ${errors.length} state errors`);
  for (const e of errors.slice(0, 20)) console.log('  ' + e);
  if (errors.length) process.exit(1);
  if (killAfter === null && normal !== games) process.exit(1);
  if (killAfter !== null && (lost === 0 || normal === 0)) {
    console.log('the kill should end some games and leave the others: it did not');
    process.exit(1);
  }
}

main().catch(err => { console.error(err); process.exit(1); });
