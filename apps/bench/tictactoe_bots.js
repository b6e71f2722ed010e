// Bots that play tic-tac-toe (apps/tictactoe) on one node or through a cluster
// (scripts/cluster.sh up --game): a game's two players use different gates when there are two.
// Every reply and every onState push is checked against the game's own rules; a game ends
// normally (a line, a draw) or, when its backend is killed, with a clear error to both players.
//   node tictactoe_bots.js --gates URL[,URL] --games N [--kill PIDFILE --kill-after MS] [--move-pause MS]
// (--kill-after counts from when every game has both players seated: the kill lands mid-game.)
//   node tictactoe_bots.js --gates URL[,URL] --bench SECONDS --pairs N [--pids PID,PID...]
// The second form (the game benchmark, scripts/bench-game.sh) keeps N pairs playing game after
// game for SECONDS and prints {"moves","seconds","moves_per_s","p50_ms","p99_ms"} as JSON, with
// the CPU time the server processes --pids spent meanwhile ("cpu_us_per_move").
'use strict';
const fs = require('fs');
const { NanoClient } = require('../client-js/nanocaf.js');

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) =>
  a.startsWith('--') ? acc.concat([[a.slice(2), all[i + 1]]]) : acc, []));
const games = Number(args.games || 200);
const killAfter = args['kill-after'] ? Number(args['kill-after']) : null;
const movePause = Number(args['move-pause'] || 0);
const gates = args.gates.split(',');
if (gates.length === 1) gates.push(gates[0]);
let allSeated; // resolves when every game has both players seated
const seated = new Promise(resolve => { allSeated = resolve; });
let seatedCount = 0;
const bench = args.bench ? { until: Date.now() + Number(args.bench) * 1000, latencies: [], moves: 0 } : null;

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

// One player: checks each onState of its room, moves on its turn; p.done resolves when the
// game ends (normally or with an error), p.stop() removes its listeners.
function play(game, client, seat) {
  const p = { seat, board: '.........', over: null, error: null, errorAt: 0 };
  let finish;
  p.done = new Promise(resolve => { finish = resolve; });
  const lost = text => { if (!p.error && !p.over) { p.error = text; p.errorAt = Date.now(); finish(); } };
  const onState = async st => {
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
      finish();
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
      const sent = performance.now();
      const r = await client.request('room.move', { roomId: game.roomId, cell });
      if (bench) { bench.moves++; bench.latencies.push(performance.now() - sent); }
      if (r.ok !== true) stateError(game, `move answered ${JSON.stringify(r)}`);
    } catch (err) {
      if (err.code === 503) lost(err.message);
      else stateError(game, `move ${cell} refused: ${err.code} ${err.message}`);
    }
  };
  const onError = m => { if (m.code === 503) lost(m.error); else stateError(game, `onError ${JSON.stringify(m)}`); };
  const onClose = () => lost('connection closed');
  client.on('onState', onState).on('onError', onError).on('close', onClose);
  p.stop = () => { client.off('onState', onState); client.off('onError', onError); client.off('close', onClose); };
  return p;
}

async function oneGame(n, clients) {
  const game = { n };
  const [creator, joiner] = clients || [await connect(gates[n % 2], `a${n}`),
                                        await connect(gates[(n + 1) % 2], `b${n}`)];
  const room = await creator.request('lobby.create', {});
  game.roomId = room.roomId;
  // The creator joins first (X), then the player on the other gate (O).
  const pa = play(game, creator, 'X'), pb = play(game, joiner, 'O');
  const ja = await creator.request('room.join', { roomId: game.roomId });
  if (ja.seat !== 'X') stateError(game, `creator got seat ${ja.seat}`);
  const jb = await joiner.request('room.join', { roomId: game.roomId });
  if (jb.seat !== 'O') stateError(game, `joiner got seat ${jb.seat}`);
  if (!bench && ++seatedCount === games) allSeated();
  await Promise.all([pa.done, pb.done]);
  pa.stop();
  pb.stop();
  game.players = [pa, pb];
  game.clients = [creator, joiner];
  return game;
}

// User plus system CPU time of the processes, in seconds (/proc/PID/stat, clock ticks of 1/100 s).
function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
  }
  return ticks / Number(args['clk-tck'] || 100);
}

function percentile(sorted, p) { return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : 0; }

// The benchmark: every pair plays game after game until the time is up.
async function runBench(pairs) {
  const players = await Promise.all(Array.from({ length: pairs }, (_, n) =>
    Promise.all([connect(gates[n % 2], `a${n}`), connect(gates[(n + 1) % 2], `b${n}`)])));
  const pids = args.pids ? args.pids.split(',').map(Number) : [];
  const cpuBefore = cpuSeconds(pids);
  const started = Date.now();
  bench.until = started + Number(args.bench) * 1000;
  bench.latencies = [];
  bench.moves = 0;
  let played = 0;
  await Promise.all(players.map(async (clients, n) => {
    for (let round = 0; Date.now() < bench.until; round++) {
      const g = await oneGame(n + round * pairs, clients);
      played++;
      if (!g.players.every(p => p.over)) stateError(g, 'a benchmark game did not end normally');
    }
  }));
  const seconds = (Date.now() - started) / 1000;
  const cpu = cpuSeconds(pids) - cpuBefore;
  const sorted = bench.latencies.sort((a, b) => a - b);
  await Promise.all(players.flat().map(c => c.close().catch(() => {})));
  console.log(JSON.stringify({ pairs, games: played, moves: bench.moves, seconds,
    moves_per_s: Math.round(bench.moves / seconds), p50_ms: +percentile(sorted, 0.5).toFixed(2),
    p99_ms: +percentile(sorted, 0.99).toFixed(2), server_cpu_s: +cpu.toFixed(2),
    cpu_us_per_move: bench.moves ? Math.round(cpu * 1e6 / bench.moves) : 0, state_errors: errors.length }));
  process.exit(errors.length ? 1 : 0);
}

async function main() {
  if (bench) return runBench(Number(args.pairs || 1000));
  const started = Date.now();
  let killedAt = null;
  if (killAfter !== null)
    seated.then(() => setTimeout(() => {
      const pid = Number(fs.readFileSync(args.kill, 'utf8'));
      process.kill(pid, 'SIGKILL');
      killedAt = Date.now();
      console.log(`killed ${args.kill} (pid ${pid}) at ${killedAt - started} ms, all games seated`);
    }, killAfter));
  const results = await Promise.all(Array.from({ length: games }, (_, n) => oneGame(n)));
  let normal = 0, lost = 0, late = 0;
  for (const g of results) {
    const [a, b] = g.players;
    if (a.over && b.over) {
      normal++;
      if (a.over.result !== b.over.result || a.board !== b.board) stateError(g, 'players disagree on the end');
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
