// Enhancements only (every check is repeated on the server): warn about a file that is too
// large or of the wrong type as soon as it is chosen; the warning is tied to its input by
// aria-describedby while it shows.
// The names accepted are the input's `accept` extensions, named in words by `data-jenis`;
// `data-max-berkas` is how many files it takes.
(function () {
  "use strict";
  function extensions(input) {
    return (input.getAttribute("accept") || "").split(",").map(function (item) {
      return item.trim().toLowerCase();
    }).filter(function (item) { return item.charAt(0) === "."; });
  }
  function accepted(input, name) {
    var dot = name.lastIndexOf(".");
    return dot >= 0 && extensions(input).indexOf(name.slice(dot).toLowerCase()) >= 0;
  }
  function message(input) {
    var limit = Number(input.getAttribute("data-max-bytes")) || 0;
    var most = Number(input.getAttribute("data-max-berkas")) || 0;
    var kinds = input.getAttribute("data-jenis") || "PDF, PNG atau JPEG";
    if (most && input.files.length > most) {
      return "Paling banyak " + most + " berkas; Anda memilih " + input.files.length + ".";
    }
    for (var i = 0; i < input.files.length; i += 1) {
      var file = input.files[i];
      if (!accepted(input, file.name)) { return file.name + ": harus berupa berkas " + kinds + "."; }
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
