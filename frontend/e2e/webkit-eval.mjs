// webkit-eval.mjs HOST:PORT EXPRESSION: evaluates EXPRESSION in the real
// Outpost window (WebKitGTK, started with WEBKIT_INSPECTOR_HTTP_SERVER set to
// HOST:PORT) through WebKit's remote inspector protocol and prints its value
// as JSON. .ci/e2e uses it to see what the page did that no screenshot
// shows (the WebAudio calls of the scan beep). EXPRESSION is synchronous
// (WebKit's Runtime.evaluate does not await a promise).
// Run with node --experimental-websocket (Node 20; built in from Node 22).
const [host, expression] = process.argv.slice(2);
if (!host || !expression) {
  console.error('usage: node --experimental-websocket webkit-eval.mjs HOST:PORT EXPRESSION');
  process.exit(2);
}
const ws = new WebSocket(`ws://${host}/socket/1/1/WebPage`);
const fail = (why) => {
  console.error(`webkit-eval: ${why}`);
  process.exit(1);
};
const timer = setTimeout(() => fail('no answer in 10 s'), 10000);
let target = '';
let next = 0;
const send = (method, params) =>
  ws.send(
    JSON.stringify({
      id: ++next,
      method: 'Target.sendMessageToTarget',
      params: { targetId: target, message: JSON.stringify({ id: next, method, params }) },
    }),
  );
ws.onerror = () => fail(`cannot reach the inspector at ${host}`);
ws.onmessage = (ev) => {
  const m = JSON.parse(String(ev.data));
  if (m.method === 'Target.targetCreated' && !target && m.params.targetInfo.type === 'page') {
    target = m.params.targetInfo.targetId;
    send('Runtime.evaluate', { expression, returnByValue: true });
  }
  if (m.method !== 'Target.dispatchMessageFromTarget') return;
  const r = JSON.parse(m.params.message);
  if (r.id !== next) return;
  if (r.error) fail(JSON.stringify(r.error));
  if (r.result.wasThrown) fail(`the page threw: ${JSON.stringify(r.result.result)}`);
  clearTimeout(timer);
  console.log(JSON.stringify(r.result.result.value ?? null));
  ws.close();
  process.exit(0);
};
