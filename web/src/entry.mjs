// entry.mjs is the noVNC bundle's entry: esbuild turns it into dist/novnc.js, an ES module that
// exports RFB and nothing else. It must stay ESM (and .mjs): noVNC uses top-level await, which
// a CommonJS or pre-es2022 bundle turns into a syntax error in the browser.
export { default as RFB } from '@novnc/novnc';
