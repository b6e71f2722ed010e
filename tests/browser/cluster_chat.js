// Two Chromium pages chat through a local cluster (master, chat node, gate) started by
// scripts/cluster.sh: each logs in on the gate, joins the room on the chat node, sees the
// other's message and the master's balance pushes. Screenshots of both pages are saved.
//   node cluster_chat.js http://127.0.0.1:PORT/web/cluster.html OUT_DIR
const { chromium } = require('playwright-core');
const path = require('path');

const [url, outDir] = process.argv.slice(2);
const timeout = 10000;

async function open(browser, name) {
  const page = await browser.newPage();
  page.on('pageerror', e => console.error(`${name}: page error: ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('connected'),
    null, { timeout });
  await page.fill('#name', name);
  return page;
}

const logText = page => page.evaluate(() => document.getElementById('log').innerText);

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
    // Alice was there first: she is told that bob joined.
    await waitForText(alice, 'alice', 'log', 'join:');

    await alice.fill('#text', 'hi bob');
    await alice.click('#send');
    await waitForText(bob, 'bob', 'log', 'hi bob');
    await bob.fill('#text', 'hello alice');
    await bob.press('#text', 'Enter');
    await waitForText(alice, 'alice', 'log', 'hello alice');
    // The master's TopicService pushes a balance to every logged-in client.
    await waitForText(alice, 'alice', 'status', 'balance: ');

    await alice.screenshot({ path: path.join(outDir, 'cluster-chat-alice.png') });
    await bob.screenshot({ path: path.join(outDir, 'cluster-chat-bob.png') });
    console.log('alice sees:\n' + await logText(alice));
    console.log('bob sees:\n' + await logText(bob));
    console.log('PASS');
  } finally {
    await browser.close();
  }
})().catch(e => { console.error('FAIL:', e.message); process.exit(1); });
