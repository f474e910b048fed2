#!/usr/bin/env node
// Merges locale keys into locales/en.json and locales/nl.json in one quick read-modify-write.
// Usage: node scripts/i18n-add.js fragment.json   where fragment.json is
//   { "en": { "digest": { "title": "…" } }, "nl": { "digest": { "title": "…" } } }
// Existing keys are overwritten by the fragment; key order is kept stable (sorted by first appearance).
const fs = require('node:fs');
const path = require('node:path');
const frag = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const merge = (a, b) => {
  for (const [k, v] of Object.entries(b)) {
    if (v && typeof v === 'object' && !Array.isArray(v)) a[k] = merge(a[k] && typeof a[k] === 'object' ? a[k] : {}, v);
    else a[k] = v;
  }
  return a;
};
for (const l of ['en', 'nl']) {
  if (!frag[l]) continue;
  const file = path.join(__dirname, '..', 'locales', `${l}.json`);
  const cur = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  fs.writeFileSync(file, JSON.stringify(merge(cur, frag[l]), null, 2) + '\n');
}
console.log('merged', Object.keys(frag).join(', '));
