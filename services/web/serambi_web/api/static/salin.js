// A "copy" button beside a code to keep (progressive enhancement: without JavaScript the code
// is plain text that wraps and can be selected). Buttons: <button data-salin="ID" hidden>.
(function () {
  "use strict";
  function select(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  function copied(button, ok) {
    var status = document.getElementById(button.getAttribute("data-salin") + "-salin");
    if (status) {
      status.textContent = ok ? "Kode akses tersalin." : "Salin tidak berhasil: kode sudah dipilih, salin secara manual.";
    }
  }
  var buttons = document.querySelectorAll("button[data-salin]");
  Array.prototype.forEach.call(buttons, function (button) {
    var source = document.getElementById(button.getAttribute("data-salin"));
    if (!source) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = source.textContent.trim();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { copied(button, true); },
          function () { select(source); copied(button, false); });
        return;
      }
      select(source);
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (ignored) { ok = false; }
      copied(button, ok);
    });
  });
}());
