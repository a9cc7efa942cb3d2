// What every part of the editor shares: the page's data, its words, its elements, and small DOM helpers.
export const data = JSON.parse(document.getElementById("wf-editor-data").textContent);
export const T = data.text;
// Django's JavaScript catalog (/jsi18n/, loaded first by base.html) translates the words built here.
export const gettext = window.gettext || ((text) => text);
export const ngettext = window.ngettext || ((one, many, count) => (count === 1 ? one : many));
export const interpolate = window.interpolate || ((text, values) => text.replace(/%\((\w+)\)s/g, (_, name) => values[name]));
export const root = document.querySelector("[data-editor]");
export const canvas = root.querySelector("[data-canvas]");
export const inspector = root.querySelector("[data-inspector]");
const announcer = root.querySelector("[data-announce]");
export const banner = document.querySelector("[data-banner]");
export const saveState = document.querySelector("[data-save-state]");
export const canWrite = data.canWrite;
const SVG = "http://www.w3.org/2000/svg";

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}
export function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}
export const fmt = (text, values) => text.replace(/%\((\w+)\)s/g, (_, name) => values[name]);
export function announce(text) {
  announcer.textContent = "";
  window.setTimeout(() => { announcer.textContent = text; }, 30);
}
export function showFieldError(container, message) {
  const error = container.querySelector(":scope > .field-error");
  error.textContent = message;
  error.hidden = !message;
  for (const input of container.querySelectorAll("input, select, textarea")) {
    if (message) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
  }
}
