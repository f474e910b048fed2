#!/usr/bin/env node
// Draws the Teams app icons into manifests/teams/ with pngjs (a maintained pure-JS PNG codec):
//   color.png    192×192, full colour: a white shield with a check mark on a blue rounded square
//   outline.png   32×32, white shield outline and check mark on a transparent background (Teams: "white
//                 with a transparent background"; every visible pixel is white, only alpha varies)
// Run once after changing the design: node scripts/teams-icons.js. The PNGs are committed.
const fs = require('node:fs');
const path = require('node:path');
const { PNG } = require('pngjs');

const BLUE = [0x17, 0x5d, 0xdc]; // Bitwarden blue
const SS = 4; // supersampling per axis, for smooth edges

/** Half width of the shield at height v (0 top … 1 bottom), in units of the icon size. */
function shieldHalfWidth(v, top, bottom, width) {
  if (v < top || v > bottom) return -1;
  const mid = top + (bottom - top) * 0.45;
  if (v <= mid) return width;
  const k = (v - mid) / (bottom - mid);
  return width * Math.sqrt(Math.max(0, 1 - k * k));
}
const inShield = (u, v, s) => Math.abs(u - 0.5) <= shieldHalfWidth(v, s.top, s.bottom, s.width);

function distToSegment(px, py, [ax, ay], [bx, by]) {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}
const CHECK = [
  [0.34, 0.47],
  [0.46, 0.6],
  [0.67, 0.36],
];
const inCheck = (u, v, thickness) => distToSegment(u, v, CHECK[0], CHECK[1]) <= thickness || distToSegment(u, v, CHECK[1], CHECK[2]) <= thickness;

function inRoundedSquare(u, v, r) {
  const cx = Math.min(Math.max(u, r), 1 - r);
  const cy = Math.min(Math.max(v, r), 1 - r);
  return Math.hypot(u - cx, v - cy) <= r;
}

/** Renders `shade(u, v) → [r, g, b, a] | null` at size×size with supersampling. */
function render(size, shade) {
  const png = new PNG({ width: size, height: size, colorType: 6 });
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0,
        g = 0,
        b = 0,
        a = 0;
      for (let sy = 0; sy < SS; sy++) {
        for (let sx = 0; sx < SS; sx++) {
          const c = shade((x + (sx + 0.5) / SS) / size, (y + (sy + 0.5) / SS) / size);
          if (!c) continue;
          r += c[0] * c[3];
          g += c[1] * c[3];
          b += c[2] * c[3];
          a += c[3];
        }
      }
      const i = (y * size + x) * 4;
      const n = SS * SS;
      png.data[i] = a ? Math.round(r / a) : 0;
      png.data[i + 1] = a ? Math.round(g / a) : 0;
      png.data[i + 2] = a ? Math.round(b / a) : 0;
      png.data[i + 3] = Math.round(a / n);
    }
  }
  return png;
}

const WHITE = [255, 255, 255, 255];
const color = render(192, (u, v) => {
  if (!inRoundedSquare(u, v, 0.18)) return null;
  const outer = { top: 0.16, bottom: 0.86, width: 0.27 };
  if (inShield(u, v, outer)) return inCheck(u, v, 0.045) ? [...BLUE, 255] : WHITE;
  return [...BLUE, 255];
});

const outline = render(32, (u, v) => {
  const outer = { top: 0.06, bottom: 0.95, width: 0.38 };
  const inner = { top: 0.06 + 0.09, bottom: 0.95 - 0.12, width: 0.38 - 0.09 };
  if (inShield(u, v, outer) && !inShield(u, v, inner)) return WHITE;
  if (inCheck(u, v, 0.055)) return WHITE;
  return null;
});

// Colours are straight (not premultiplied) and every visible outline pixel is pure white.
for (let i = 0; i < outline.data.length; i += 4) {
  if (outline.data[i + 3] === 0) outline.data.fill(0, i, i + 3);
  else outline.data.fill(255, i, i + 3);
}

const dir = path.join(__dirname, '..', 'manifests', 'teams');
fs.writeFileSync(path.join(dir, 'color.png'), PNG.sync.write(color));
fs.writeFileSync(path.join(dir, 'outline.png'), PNG.sync.write(outline));
console.log('wrote', path.join(dir, 'color.png'), path.join(dir, 'outline.png'));
