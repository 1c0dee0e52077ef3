const fs = require('fs');
for (const f of fs.readdirSync('/tmp/prof')) {
  const p = JSON.parse(fs.readFileSync('/tmp/prof/' + f));
  const self = new Map(); const byId = new Map(p.nodes.map(n => [n.id, n]));
  const dt = p.timeDeltas; let total = 0;
  const counts = new Map();
  p.samples.forEach((id, i) => { counts.set(id, (counts.get(id) || 0) + (dt[i] || 0)); total += dt[i] || 0; });
  const byFile = new Map(); const byFn = new Map();
  for (const [id, t] of counts) { const n = byId.get(id); const url = n.callFrame.url.replace(/.*\/work\/main\//, ''); const key = url.replace(/^node_modules\/(@[^/]+\/[^/]+|[^/]+)\/.*/, '$1') || '(native/' + n.callFrame.functionName + ')'; byFile.set(key, (byFile.get(key) || 0) + t); const fk = n.callFrame.functionName + ' ' + url + ':' + n.callFrame.lineNumber; byFn.set(fk, (byFn.get(fk) || 0) + t); }
  console.log(f, 'total ms', (total/1000).toFixed(0));
  for (const [k, t] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 14)) console.log('  ', (t / total * 100).toFixed(1) + '%', k);
  console.log(' ours:');
  for (const [k, t] of [...byFn].filter(([k]) => /interceptors\/|src\/auth|src\/status/.test(k)).sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log('  ', (t / total * 100).toFixed(2) + '%', k);
}
