// Two Chromium pages on the single-node chat (index.html): both join, each sees the other's
// message; the library's error replies reject inside the page; when the server is told to stop
// (SIGTERM to SERVER_PID) both pages show the kick's reason. Screenshots are saved.
//   node single_chat.js http://127.0.0.1:PORT/web/ OUT_DIR SERVER_PID
const { chromium } = require('playwright-core');
const path = require('path');

const [url, outDir, serverPid] = process.argv.slice(2);
const timeout = 15000;

async function open(browser, name) {
  const page = await browser.newPage();
  page.on('pageerror', e => console.error(`${name}: page error: ${e.message}`));
  await page.goto(url);
  await waitForText(page, name, 'status', 'connected to ');
  await page.fill('#name', name);
  return page;
}

// Waits until the page's log (or status) contains `text`; on timeout says what was there.
async function waitForText(page, who, where, text) {
  try {
    await page.waitForFunction(([id, t]) => document.getElementById(id).innerText.includes(t),
      [where, text], { timeout });
  } catch (e) {
    const seen = await page.evaluate(id => document.getElementById(id).innerText, where);
    throw new Error(`${who}: "${text}" never appeared in #${where}; it shows:\n${seen}`);
  }
}

function check(cond, what) {
  if (!cond) throw new Error(what);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu',
           '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const alice = await open(browser, 'alice');
    const bob = await open(browser, 'bob');
    await waitForText(alice, 'alice', 'log', 'New user: '); // bob joined after her

    await alice.fill('#text', 'hi bob');
    await alice.click('#send');
    await waitForText(bob, 'bob', 'log', 'hi bob');
    await bob.fill('#text', 'hello alice');
    await bob.press('#text', 'Enter');
    await waitForText(alice, 'alice', 'log', 'hello alice');

    // The page's client (the library in Chromium): error replies reject with the server's code
    // (404 no such route, 403 from the handler), the handshake's heartbeat was taken, and the
    // connection stays open.
    const result = await alice.evaluate(async () => {
      const fail = (route, body) => client.request(route, body).then(() => null,
        e => ({ name: e.name, code: e.code, text: e.message, route: e.route }));
      return { missing: await fail('room.nosuch', {}), heartbeat: client.heartbeatInterval, state: client.state };
    });
    check(result.missing && result.missing.name === 'NanoError' && result.missing.code === 404 &&
      result.missing.route === 'room.nosuch', 'error reply in the page: ' + JSON.stringify(result));
    check(result.heartbeat === 30000 && result.state === 'open', 'page client: ' + JSON.stringify(result));

    await alice.screenshot({ path: path.join(outDir, 'single-chat-alice.png') });
    await bob.screenshot({ path: path.join(outDir, 'single-chat-bob.png') });

    // The server stops: every client is kicked with the reason "server shutdown".
    process.kill(Number(serverPid), 'SIGTERM');
    for (const [page, who] of [[alice, 'alice'], [bob, 'bob']]) {
      await waitForText(page, who, 'log', 'kicked: server shutdown');
      await waitForText(page, who, 'status', 'disconnected: server shutdown');
    }
    console.log('alice sees:\n' + await alice.evaluate(() => document.getElementById('log').innerText));
    console.log('PASS');
  } finally {
    await browser.close();
  }
})().catch(e => { console.error('FAIL:', e.message); process.exit(1); });
