// Enhancements for the topic page; every link here also works without JavaScript.
// "Reply" answers a post in the composer below; "Quote" quotes the selected text of a post
// (or the whole post) with a link back to it.
(function () {
  "use strict";

  function composer() {
    return {
      raw: document.getElementById("composer-raw"),
      replyTo: document.getElementById("composer-reply-to"),
      note: document.getElementById("composer-replying-to"),
      number: document.getElementById("composer-reply-number"),
    };
  }

  function setReplyTo(number) {
    var c = composer();
    if (!c.replyTo) return false;
    c.replyTo.value = number || "";
    if (c.note) c.note.hidden = !number;
    if (c.number) c.number.textContent = number ? "#" + number : "";
    return true;
  }

  function changed(textarea) {
    // Let the draft autosave (htmx, on "input") see text we inserted.
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function selectedTextIn(body) {
    var selection = window.getSelection();
    if (!selection || selection.isCollapsed || selection.rangeCount === 0) return "";
    var range = selection.getRangeAt(0);
    if (!body.contains(range.commonAncestorContainer)) return "";
    return selection.toString().trim();
  }

  document.addEventListener("click", function (event) {
    var reply = event.target.closest("[data-reply-to]");
    var quote = event.target.closest("[data-quote]");
    var clear = event.target.closest("#composer-clear-reply");
    var c = composer();
    if (clear) {
      setReplyTo("");
      return;
    }
    if (!c.raw || !(reply || quote)) return;
    event.preventDefault();
    if (reply) {
      setReplyTo(reply.getAttribute("data-reply-to"));
    } else {
      var number = quote.getAttribute("data-quote");
      var body = document.querySelector('#post-' + number + ' .post-body');
      if (!body) return;
      var text = selectedTextIn(body) || body.innerText.trim();
      var username = body.getAttribute("data-username");
      var topic = body.getAttribute("data-topic");
      var block = '[quote="' + username + ", post:" + number + ", topic:" + topic + '"]\n' + text + "\n[/quote]\n\n";
      var start = c.raw.selectionStart || c.raw.value.length;
      c.raw.value = c.raw.value.slice(0, start) + block + c.raw.value.slice(start);
      setReplyTo(number);
      changed(c.raw);
    }
    c.raw.focus();
    c.raw.scrollIntoView({ block: "center" });
  });
})();
