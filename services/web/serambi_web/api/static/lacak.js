// The tracking link carries its access token in the fragment (#t=…), which no server sees.
// On every tracking page, drop it from the address bar and history at once (also when a session
// already opened the case and the page shows it directly, and when the link is opened again in
// the same tab, which changes only the fragment). On the page that asks for the code, move the
// token into its form and post it once: the answer is a session cookie for this case.
// Without JavaScript the person types the code.
(function () {
  "use strict";
  function take() {
    var hash = window.location.hash;
    if (!/(?:^#|&)t=/.test(hash)) { return; }
    var match = /(?:^#|&)t=([A-Za-z0-9_-]{16,128})(?:&|$)/.exec(hash);
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
    var form = document.getElementById("buka-lacak");
    if (form && match) {
      form.elements.token.value = match[1];
      form.submit();
    }
  }
  take();
  window.addEventListener("hashchange", take);
}());
