const fs = require('fs');
const f = fs.readdirSync('/tmp/prof').sort()[0];
const p = JSON.parse(fs.readFileSync('/tmp/prof/' + f));
const byId = new Map(p.nodes.map(n => [n.id, n]));
const parent = new Map(); for (const n of p.nodes) for (const c of n.children || []) parent.set(c, n.id);
const counts = new Map(); p.samples.forEach((id, i) => counts.set(id, (counts.get(id) || 0) + (p.timeDeltas[i] || 0)));
const ours = /interceptors\/(authentication|authorization|select|token-verifier|bearer-token|access-policy|call-state|token-cache)\.ts/;
const grpcjs = /@grpc\/grpc-js/;
let inOurs = 0, inServerCall = 0, total = 0, inMeasureChain = 0;
for (const [id, t] of counts) {
  total += t;
  let cur = id, hitOurs = false;
  while (cur !== undefined) { const n = byId.get(cur); if (ours.test(n.callFrame.url)) hitOurs = true; cur = parent.get(cur); }
  if (hitOurs) inOurs += t;
}
console.log('inclusive time in security layers (ms):', (inOurs / 1000).toFixed(1), 'of total', (total / 1000).toFixed(0));
