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

  // @ autocompletion: suggestions appear as buttons under the composer; Down arrow reaches them.
  var mentionTimer = null;
  function mentionBox() { return document.getElementById("mention-suggestions"); }
  function partialMention(textarea) {
    var before = textarea.value.slice(0, textarea.selectionStart);
    var match = /(^|\s)@([\w.\-]{1,30})$/.exec(before);
    return match ? match[2] : null;
  }
  function hideMentions() {
    var box = mentionBox();
    if (box) { box.hidden = true; box.querySelector("ul").innerHTML = ""; }
  }
  function insertMention(textarea, username) {
    var caret = textarea.selectionStart;
    var before = textarea.value.slice(0, caret).replace(/@[\w.\-]{1,30}$/, "@" + username + " ");
    textarea.value = before + textarea.value.slice(caret);
    textarea.focus();
    textarea.setSelectionRange(before.length, before.length);
    hideMentions();
    changed(textarea);
  }
  document.addEventListener("input", function (event) {
    var textarea = event.target;
    var box = mentionBox();
    if (textarea.id !== "composer-raw" || !box) return;
    clearTimeout(mentionTimer);
    var query = partialMention(textarea);
    if (!query) { hideMentions(); return; }
    mentionTimer = setTimeout(function () {
      fetch(box.getAttribute("data-url") + "?q=" + encodeURIComponent(query), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { people: [] }; })
        .then(function (data) {
          var list = box.querySelector("ul");
          list.innerHTML = "";
          data.people.forEach(function (person) {
            var item = document.createElement("li");
            var button = document.createElement("button");
            button.type = "button";
            button.className = "link-button";
            button.textContent = "@" + person.username + " — " + person.name;
            button.addEventListener("click", function () { insertMention(textarea, person.username); });
            item.appendChild(button);
            list.appendChild(item);
          });
          box.hidden = data.people.length === 0;
        })
        .catch(hideMentions);
    }, 250);
  });
  document.addEventListener("keydown", function (event) {
    var box = mentionBox();
    if (!box || box.hidden) return;
    if (event.key === "Escape") { hideMentions(); return; }
    if (event.target.id === "composer-raw" && event.key === "ArrowDown") {
      var first = box.querySelector("button");
      if (first) { event.preventDefault(); first.focus(); }
    }
  });
})();

