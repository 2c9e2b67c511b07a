"""Mark what a reader of a rendered page does not see, from the browser's computed styles.

The script runs in the page after it settled and puts HIDDEN_ATTR="kind" on each hidden
element; tools/html/hidden.py then drops the marked elements and reports them. Computed styles
know more than the static judgement of the page's HTML can (stylesheets, scripts, layout).
"""

from __future__ import annotations

from playwright.async_api import Page

from tools.html.css import SAME_COLOR_CONTRAST
from tools.html.hidden import HIDDEN_ATTR

# Content a click reveals (a closed <details>, a tab panel, an accordion after its button) is
# not marked, nor is a fade-in still in transition.
MARK_HIDDEN_JS = r"""
([attr, sameContrast]) => {
  const SKIP = new Set(['SCRIPT', 'STYLE', 'TEMPLATE', 'NOSCRIPT', 'HEAD', 'META', 'LINK', 'TITLE', 'SVG']);
  const CONTROL = 'button, summary, label, select, [aria-expanded], [onclick], [role=button], [role=tab], ' +
    'input[type=checkbox], input[type=radio]';
  const rgba = (c) => {
    const m = /rgba?\(([^)]+)\)/.exec(c || '');
    if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const contrast = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const background = (el) => {
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      const s = getComputedStyle(n);
      if (s.backgroundImage && s.backgroundImage !== 'none') return null;  // text on an image: unknown
      const c = rgba(s.backgroundColor);
      if (c && c.a >= 0.9) return c;
      if (c && c.a > 0.05) return null;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const directText = (el) => Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
  const still = (s) => s.transitionDuration.split(',').every((d) => parseFloat(d) === 0) && s.animationName === 'none';
  const zeroRect = (clip) => {
    const m = /^rect\((.*)\)$/.exec(clip || '');
    if (!m) return false;
    const v = m[1].split(/[\s,]+/).map(parseFloat);
    return v.length === 4 && (v[2] - v[0] <= 1 || v[1] - v[3] <= 1);
  };
  const revealable = (el) => {
    if (el.closest('details')) return true;
    if (['tabpanel', 'dialog', 'menu', 'listbox'].includes((el.getAttribute('role') || '').toLowerCase())) return true;
    if (el.id && document.querySelector('[aria-controls~="' + CSS.escape(el.id) + '"], [href="#' + CSS.escape(el.id) + '"]')) return true;
    for (const node of [el, el.parentElement]) {
      let prev = node && node.previousElementSibling;
      for (let i = 0; prev && i < 2; i++, prev = prev.previousElementSibling) {
        if (prev.matches(CONTROL) || prev.querySelector(CONTROL) || getComputedStyle(prev).cursor === 'pointer') return true;
      }
    }
    return false;
  };
  const width = Math.max(document.documentElement.scrollWidth, innerWidth);
  const kindOf = (el, s) => {
    if (s.display === 'none') return 'display_none';
    if (s.visibility === 'hidden' || s.visibility === 'collapse') {
      const inner = el.querySelectorAll('*');
      for (let i = 0; i < Math.min(inner.length, 300); i++) if (getComputedStyle(inner[i]).visibility === 'visible') return null;
      return 'visibility_hidden';
    }
    if (parseFloat(s.opacity) === 0 && still(s)) return 'transparent';
    const r = el.getBoundingClientRect();
    const clipped = ['hidden', 'clip'].includes(s.overflowX) || ['hidden', 'clip'].includes(s.overflowY);
    if ((r.width <= 1 || r.height <= 1) && clipped && s.display !== 'contents') return 'zero_size';
    if (zeroRect(s.clip) || /^inset\((50|100)%\)$/.test(s.clipPath)) return 'clipped';
    if (r.right + scrollX <= 0 || r.bottom + scrollY <= 0 || r.left + scrollX >= width + 500) return 'off_screen';
    if (directText(el)) {
      if (parseFloat(s.fontSize) < 1) return 'font_size_zero';
      const fg = rgba(s.color);
      if (fg && fg.a < 0.05) return 'transparent';
      const bg = background(el);
      if (fg && bg && fg.a >= 0.9 && contrast(fg, bg) < sameContrast) return 'same_color';
    }
    return null;
  };
  const total = (document.body && document.body.textContent.length) || 1;
  const stack = document.body ? Array.from(document.body.children).reverse() : [];
  let seen = 0, marked = 0;
  while (stack.length && seen++ < 30000) {
    const el = stack.pop();
    if (SKIP.has(el.tagName.toUpperCase())) continue;
    const kind = kindOf(el, getComputedStyle(el));
    const text = kind ? el.textContent.trim() : '';
    if (kind && text && text.length < 0.5 * total && !revealable(el)) {
      el.setAttribute(attr, kind);
      marked++;
      continue;
    }
    if (kind === 'display_none') continue;  // nothing inside it can show
    for (let i = el.children.length - 1; i >= 0; i--) stack.push(el.children[i]);
  }
  return marked;
}
"""


async def mark_hidden(page: Page) -> int:
    """Mark the page's hidden elements with HIDDEN_ATTR; return how many were marked."""
    return await page.evaluate(MARK_HIDDEN_JS, [HIDDEN_ATTR, SAME_COLOR_CONTRAST])
