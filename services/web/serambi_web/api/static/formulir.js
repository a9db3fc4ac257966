// Enhancements only (every check is repeated on the server): warn about a file that is too
// large or of the wrong type as soon as it is chosen; the warning is tied to its input by
// aria-describedby while it shows.
(function () {
  "use strict";
  var ACCEPTED = /\.(pdf|png|jpe?g)$/i;
  function message(input) {
    var limit = Number(input.getAttribute("data-max-bytes")) || 0;
    for (var i = 0; i < input.files.length; i += 1) {
      var file = input.files[i];
      if (!ACCEPTED.test(file.name)) { return file.name + ": harus berupa berkas PDF, PNG atau JPEG."; }
      if (limit && file.size > limit) {
        return file.name + ": terlalu besar (paling besar " + Math.round(limit / 1000000) + " MB).";
      }
    }
    return "";
  }
  function describe(input, id, on) {
    var ids = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (item) {
      return item && item !== id;
    });
    if (on) { ids.push(id); }
    if (ids.length) { input.setAttribute("aria-describedby", ids.join(" ")); }
    else { input.removeAttribute("aria-describedby"); }
  }
  function check(input) {
    var id = input.id + "-periksa";
    var note = document.getElementById(id);
    var text = message(input);
    if (!note) {
      note = document.createElement("p");
      note.id = id;
      note.className = "galat";
      note.setAttribute("role", "alert");
      input.parentNode.insertBefore(note, input);
    }
    note.textContent = text;
    note.hidden = !text;
    describe(input, id, Boolean(text));
    input.setCustomValidity(text);
    return !text;
  }
  var forms = document.querySelectorAll("form[data-periksa-berkas]");
  Array.prototype.forEach.call(forms, function (form) {
    var inputs = form.querySelectorAll("input[type=file]");
    Array.prototype.forEach.call(inputs, function (input) {
      input.addEventListener("change", function () { check(input); });
    });
    form.addEventListener("submit", function (event) {
      var first = null;
      Array.prototype.forEach.call(inputs, function (input) {
        if (!check(input) && !first) { first = input; }
      });
      if (first) { event.preventDefault(); first.focus(); }
    });
  });
}());
