// The tracking link carries its access token in the fragment (#t=…), which no server sees.
// Move it into the page's form, drop it from the address bar and history, and post it once:
// the answer is a session cookie for this case. Without JavaScript the person types the code.
(function () {
  "use strict";
  var form = document.getElementById("buka-lacak");
  var match = /(?:^#|&)t=([A-Za-z0-9_-]{16,128})/.exec(window.location.hash);
  if (!form || !match) { return; }
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
  form.elements.token.value = match[1];
  form.submit();
}());
