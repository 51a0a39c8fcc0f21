import { Html, html } from './html';

/** Who draws the page: the demo app, or the identity provider it connects to (another site, another colour). */
export type Site = 'app' | 'provider';

const STYLE = `
:root { --accent: #2457d6; --accent-soft: #e9efff; --ink: #1d2433; --muted: #5d6678; --line: #e3e6ee; }
.provider { --accent: #0f7b5f; --accent-soft: #e3f4ee; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f5f6fa; }
header { background: #fff; border-bottom: 1px solid var(--line); }
header .bar { max-width: 760px; margin: 0 auto; padding: 14px 20px; display: flex; align-items: center; gap: 12px; }
header .bar > span { white-space: nowrap; }
header .brand { font-weight: 700; color: var(--accent); }
header .who { margin-left: auto; color: var(--muted); display: flex; align-items: center; gap: 10px; min-width: 0; }
header .who strong { overflow: hidden; text-overflow: ellipsis; max-width: 240px; }
main { max-width: 760px; margin: 28px auto; padding: 0 20px; }
h1 { font-size: 1.5rem; margin: 0 0 6px; }
h2 { font-size: 1.1rem; margin: 0 0 12px; }
p { margin: 0 0 12px; }
.lead { color: var(--muted); margin-bottom: 22px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 20px 22px; margin-bottom: 18px; }
.card.narrow { max-width: 420px; }
.row { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
.spread { justify-content: space-between; }
form.inline { display: inline; margin: 0; }
label { display: block; font-weight: 600; margin-bottom: 6px; }
input[type=text] { width: 100%; padding: 9px 11px; font: inherit; border: 1px solid #c9cedb; border-radius: 7px; margin-bottom: 14px; }
button, .button { display: inline-block; font: inherit; font-weight: 600; padding: 8px 16px; border-radius: 7px; border: 1px solid var(--accent);
  background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: #fff; color: #b42318; border-color: #e4b4ae; }
button.link { background: none; border: none; color: var(--muted); padding: 0; font-weight: 400; text-decoration: underline; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 999px; font-size: .85rem; font-weight: 600; }
.badge.on { background: #dcf5e6; color: #146c3a; }
.badge.off { background: #eef0f4; color: var(--muted); }
table.meta { border-collapse: collapse; width: 100%; margin: 6px 0 16px; }
table.meta th { text-align: left; font-weight: 500; color: var(--muted); width: 38%; padding: 6px 0; vertical-align: top; }
table.meta td { padding: 6px 0; }
table.meta tr + tr { border-top: 1px solid var(--line); }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, monospace; background: #f1f3f8; padding: 1px 5px; border-radius: 4px; }
pre { font: .85rem/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; background: #0f1525; color: #e6e9f2; padding: 14px 16px; border-radius: 8px;
  overflow-x: auto; margin: 10px 0 0; }
.notice { border-radius: 8px; padding: 10px 14px; margin-bottom: 18px; border: 1px solid; }
.notice.ok { background: #effaf3; border-color: #bfe6cd; }
.notice.error { background: #fff3f1; border-color: #f1c2bb; }
.notice.warn { background: #fff8e6; border-color: #f0d68c; }
ul.scopes { padding-left: 20px; margin: 8px 0 18px; }
ul.chips { list-style: none; padding: 0; margin: 0; display: flex; gap: 6px; flex-wrap: wrap; }
ul.chips li { background: var(--accent-soft); color: var(--accent); border-radius: 6px; padding: 1px 8px; font-size: .9rem; }
.muted { color: var(--muted); }
footer { max-width: 760px; margin: 0 auto 30px; padding: 0 20px; color: var(--muted); font-size: .9rem; }
`;

/** Ours and constant: the one text printed unescaped (a <style> element does not decode entities). */
const STYLESHEET = new Html(STYLE);

/** A whole page: header with the site's name and whoever is signed in there, then the body. */
export function page(options: { site: Site; title: string; who?: Html; body: Html; footer?: Html }): string {
  const brand = options.site === 'app' ? 'Token storage demo' : 'Demo ID';
  const tagline = options.site === 'app' ? 'typeorm-oauth-storage' : 'identity provider';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · ${brand}</title>
<style>${STYLESHEET}</style>
</head>
<body class="${options.site}">
<header><div class="bar"><span class="brand">${brand}</span><span class="muted">${tagline}</span>
<span class="who">${options.who}</span></div></header>
<main>${options.body}</main>
${options.footer ? html`<footer>${options.footer}</footer>` : ''}
</body>
</html>`.text;
}

