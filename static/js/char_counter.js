// A live character counter under each composer (progressive enhancement: without JavaScript
// the counter stays hidden and the server still refuses text over the limit, keeping it).
// Markup: templates/forum/_char_counter.html. Screen readers hear it only when it matters
// (1,000 and 100 characters left, over the limit), not on every key.
(function () {
  "use strict";
  if (window.mplfCharCounter) return;
  window.mplfCharCounter = true;

  var THRESHOLDS = [1000, 100, 0];

  function format(template, count) {
    var lang = document.documentElement.lang || undefined;
    return template.replace("{count}", Math.abs(count).toLocaleString(lang));
  }

  function level(left) {
    // 0: plenty left, 1: <= 1000, 2: <= 100, 3: over the limit.
    if (left < 0) return 3;
    for (var i = THRESHOLDS.length - 1; i >= 0; i--) {
      if (left <= THRESHOLDS[i]) return i + 1;
    }
    return 0;
  }

  function update(counter, announce) {
    var textarea = document.getElementById(counter.dataset.charCounter);
    if (!textarea) return;
    var limit = parseInt(counter.dataset.limit, 10) || 32000;
    // The server counts characters as Python does: code points, with line breaks as sent (\r\n).
    var length = Array.from(textarea.value.replace(/\r?\n/g, "\r\n")).length;
    var left = limit - length;
    var text = format(left < 0 ? counter.dataset.over : counter.dataset.left, left);
    var visible = counter.querySelector(".char-counter-text");
    var status = counter.querySelector("[role=status]");
    counter.hidden = false;
    counter.classList.toggle("is-near", left <= THRESHOLDS[0] && left >= 0);
    counter.classList.toggle("is-over", left < 0);
    if (left < 0) textarea.setAttribute("aria-invalid", "true");
    else if (counter.dataset.marked === "1") textarea.removeAttribute("aria-invalid");
    counter.dataset.marked = left < 0 ? "1" : "0";
    if (visible) visible.textContent = text;
    var now = level(left);
    var before = parseInt(counter.dataset.level || "0", 10);
    if (announce && status && now !== before && now > 0) status.textContent = text;
    counter.dataset.level = String(now);
  }

  function all(announce) {
    document.querySelectorAll("[data-char-counter]").forEach(function (counter) {
      update(counter, announce);
    });
  }

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (!target || target.tagName !== "TEXTAREA" || !target.id) return;
    document.querySelectorAll('[data-char-counter="' + target.id + '"]').forEach(function (counter) {
      update(counter, true);
    });
  });
  // Composers re-rendered by htmx or the live page get their counter too.
  document.addEventListener("htmx:afterSettle", function () { all(false); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { all(false); });
  } else {
    all(false);
  }
})();
