// Files and images in posts (forum/uploads.py, templates/forum/_upload_field.html).
//
// Composer: a file chosen with the field, dropped on the text or pasted into it is uploaded at
// once to POST /uploads.json, with its progress shown; its Markdown reference takes the place of
// a placeholder in the text, which then saves as a draft like any typing. A refused file (too
// large, type not allowed, quota reached) gets its message and the text stays as typed. Without
// JavaScript the same field is a plain multipart field the server handles when the form is posted.
//
// Posts: an image inside a.lightbox opens over the page in a <dialog>; without JavaScript the
// link opens the full image by itself.
(function () {
  "use strict";

  var script = document.currentScript;
  function scriptLabel(name, fallback) {
    return (script && script.getAttribute("data-label-" + name)) || fallback;
  }

  function label(box, name) { return box.getAttribute("data-label-" + name) || ""; }

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function insertAtCursor(textarea, text) {
    var start = textarea.selectionStart || 0;
    var end = textarea.selectionEnd || 0;
    var before = textarea.value.slice(0, start);
    var after = textarea.value.slice(end);
    var lead = before && !/\n\n$/.test(before) ? (/\n$/.test(before) ? "\n" : "\n\n") : "";
    var trail = after && !/^\n/.test(after) ? "\n" : "";
    textarea.value = before + lead + text + trail + after;
    var caret = (before + lead + text).length;
    textarea.setSelectionRange(caret, caret);
    return lead + text + trail;
  }

  function replaceText(textarea, placeholder, text) {
    var value = textarea.value;
    var index = value.indexOf(placeholder);
    if (index < 0) {
      if (text) insertAtCursor(textarea, text);
      return;
    }
    textarea.value = value.slice(0, index) + text + value.slice(index + placeholder.length);
  }

  function changed(textarea) {
    // composer.js keeps the text on the device, htmx saves the server's draft, the counter counts.
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function listItem(box, file) {
    var item = document.createElement("li");
    var name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name || "image.png";
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", label(box, "uploading") + " " + (file.name || ""));
    var status = document.createElement("span");
    status.className = "upload-status";
    item.append(name, " ", bar, " ", status);
    box.querySelector("[data-upload-list]").appendChild(item);
    return { item: item, bar: bar, status: status };
  }

  function fail(row, message) {
    row.bar.remove();
    row.item.classList.add("upload-error");
    row.status.setAttribute("role", "alert");
    row.status.textContent = message;
  }

  var counter = 0;

  function upload(box, file) {
    var form = box.closest("form");
    var textarea = form.querySelector("textarea[name=raw]");
    var row = listItem(box, file);
    var maxBytes = Number(box.getAttribute("data-max-bytes") || 0);
    var name = file.name || "image.png";
    if (maxBytes && file.size > maxBytes) {
      fail(row, name + " " + label(box, "too-large"));
      return;
    }
    counter += 1;
    var placeholder = "[" + label(box, "uploading") + " " + name.replace(/[\[\]]/g, "") + "… #" + counter + "]()";
    var inserted = insertAtCursor(textarea, placeholder);
    // A refused file takes its placeholder away with the blank lines put around it.
    function withdraw() {
      replaceText(textarea, textarea.value.indexOf(inserted) >= 0 ? inserted : placeholder, "");
      changed(textarea);
    }
    changed(textarea);
    form._uploadsPending = (form._uploadsPending || 0) + 1;

    var data = new FormData();
    data.append("file", file, name);
    data.append("type", "composer");
    var request = new XMLHttpRequest();
    request.open("POST", box.getAttribute("data-upload-url"));
    request.setRequestHeader("X-CSRFToken", csrfToken(form));
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) row.bar.value = Math.round((event.loaded / event.total) * 100);
    });
    function finish() { form._uploadsPending -= 1; }
    request.addEventListener("load", function () {
      finish();
      var answer = null;
      try { answer = JSON.parse(request.responseText); } catch (e) { answer = null; }
      if (request.status === 200 && answer && answer.markdown) {
        replaceText(textarea, placeholder, answer.markdown);
        changed(textarea);
        row.bar.value = 100;
        row.status.textContent = label(box, "done") + " " + answer.original_filename + " (" + answer.human_filesize + ")";
        return;
      }
      withdraw();
      var message = answer && answer.errors && answer.errors.length ? answer.errors.join(" ") : name + " " + label(box, "failed");
      fail(row, message);
    });
    request.addEventListener("error", function () {
      finish();
      withdraw();
      fail(row, name + " " + label(box, "offline"));
    });
    request.send(data);
  }

  function uploadAll(box, files) {
    Array.prototype.forEach.call(files, function (file) { upload(box, file); });
  }

  function boxOf(target) {
    var form = target && target.closest ? target.closest("form") : null;
    return form ? form.querySelector("[data-uploader]") : null;
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-uploader] input[type=file]")) return;
    var box = input.closest("[data-uploader]");
    uploadAll(box, input.files);
    input.value = "";  // uploaded already: the form is posted without them
  });

  document.addEventListener("dragover", function (event) {
    var box = boxOf(event.target);
    if (!box || !event.dataTransfer || Array.prototype.indexOf.call(event.dataTransfer.types, "Files") < 0) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    box.closest("form").classList.add("upload-dropping");
  });
  document.addEventListener("dragleave", function (event) {
    var box = boxOf(event.target);
    if (box) box.closest("form").classList.remove("upload-dropping");
  });
  document.addEventListener("drop", function (event) {
    var box = boxOf(event.target);
    if (!box || !event.dataTransfer || !event.dataTransfer.files.length) return;
    event.preventDefault();
    box.closest("form").classList.remove("upload-dropping");
    var textarea = box.closest("form").querySelector("textarea[name=raw]");
    if (textarea && event.target !== textarea) textarea.focus();
    uploadAll(box, event.dataTransfer.files);
  });

  document.addEventListener("paste", function (event) {
    var target = event.target;
    if (!target.matches || !target.matches("textarea[name=raw]")) return;
    var box = boxOf(target);
    var data = event.clipboardData;
    if (!box || !data || !data.files || !data.files.length) return;
    // Text copied from a document or a spreadsheet often comes with a picture of itself: paste the text.
    if (data.getData && data.getData("text/plain")) return;
    event.preventDefault();  // the image, not its name as text
    uploadAll(box, data.files);
  });

  // Posting while a file is still on its way would post its placeholder: wait for it.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form._uploadsPending || (event.submitter && event.submitter.name === "preview")) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    var box = form.querySelector("[data-uploader]");
    var status = form.querySelector("#draft-status");
    if (status && box) status.textContent = label(box, "wait");
  }, true);

  // --- Lightbox ---------------------------------------------------------------------------------
  var dialog = null;
  function lightbox() {
    if (dialog) return dialog;
    dialog = document.createElement("dialog");
    dialog.className = "lightbox-dialog";
    var close = document.createElement("button");
    close.type = "button";
    close.className = "lightbox-close";
    close.textContent = "×";
    close.addEventListener("click", function () { dialog.close(); });
    var image = document.createElement("img");
    var link = document.createElement("a");
    link.className = "lightbox-original";
    dialog.append(close, image, link);
    dialog.addEventListener("click", function (event) { if (event.target === dialog) dialog.close(); });
    document.body.appendChild(dialog);
    return dialog;
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest(".post-body a.lightbox") : null;
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || typeof HTMLDialogElement === "undefined") return;
    event.preventDefault();
    var box = lightbox();
    var thumb = link.querySelector("img");
    var image = box.querySelector("img");
    image.src = link.href;
    image.alt = thumb ? thumb.alt : "";
    var close = box.querySelector(".lightbox-close");
    close.setAttribute("aria-label", scriptLabel("close", "Close"));
    var original = box.querySelector(".lightbox-original");
    original.href = link.href;
    original.textContent = scriptLabel("original", "Open the full image");
    box.setAttribute("aria-label", image.alt);
    box.showModal();
    close.focus();
  });
})();
