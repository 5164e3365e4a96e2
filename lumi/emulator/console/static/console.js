// The Lumi emulator console's one script: live refresh of the current view, and a question
// before a delete. Pages work without it (plain links and forms); it loads nothing from
// elsewhere and the Content-Security-Policy allows no other script.
"use strict";
(function () {
  const INTERVAL_MS = 2000;

  // A delete (or any form marked data-confirm) asks first.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  const main = document.querySelector("main[data-live]");
  if (!main) return;
  const view = main.dataset.live;
  const stampUrl = main.dataset.stampUrl;
  const status = document.getElementById("live-status");
  let last = main.dataset.stamp;  // as of the page's rendering

  // Never replace what the user is typing or choosing.
  function busy() {
    const active = document.activeElement;
    if (active && main.contains(active) && active.matches("input, textarea, select")) return true;
    for (const field of main.querySelectorAll("input, textarea")) {
      if (field.type !== "hidden" && field.value !== field.defaultValue) return true;
    }
    for (const select of main.querySelectorAll("select")) {
      for (const option of select.options) {
        if (option.selected !== option.defaultSelected) return true;
      }
    }
    return false;
  }

  // What to focus again after the swap: the same link, button or element id.
  function focusKey() {
    const active = document.activeElement;
    if (!active || !main.contains(active) || active === main) return null;
    if (active.id) return "#" + CSS.escape(active.id);
    if (active.matches("a[href]")) return 'a[href="' + CSS.escape(active.getAttribute("href")) + '"]';
    return null;
  }

  async function refresh() {
    const response = await fetch(window.location.href, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = page.querySelector("main[data-live]");
    if (!fresh || busy()) return false;
    const key = focusKey();
    const open = Array.from(main.querySelectorAll("details[open]"), (d) => d.querySelector("summary")?.textContent);
    // Copy the (live) child list first: adopting a node takes it out of that list.
    main.replaceChildren(...Array.from(fresh.childNodes).map((node) => document.adoptNode(node)));
    for (const details of main.querySelectorAll("details")) {
      if (open.includes(details.querySelector("summary")?.textContent)) details.open = true;
    }
    if (key) main.querySelector(key)?.focus();
    return true;
  }

  async function tick() {
    try {
      const response = await fetch(stampUrl, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const stamps = await response.json();
      const now = view in stamps ? stamps[view] : JSON.stringify(stamps);
      if (now !== last) {
        if (busy() || !(await refresh())) {
          status.textContent = "Changes are waiting: they appear when you leave the form.";
          setTimeout(tick, INTERVAL_MS);
          return;  // keep the old stamp: refresh again once the user is done
        }
        status.textContent = "Updated at " + new Date().toLocaleTimeString() + ".";
      }
      last = now;
    } catch (error) {
      status.textContent = "The emulator does not answer (" + error.message + "); retrying.";
    }
    setTimeout(tick, INTERVAL_MS);
  }
  tick();
})();
