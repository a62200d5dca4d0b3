// Forms that undo something ask first: <form data-confirm="Remove this TV box?">.
// A listener on the document rather than onsubmit="" attributes, which the pages'
// Content-Security-Policy (script-src 'self') does not run; it also covers forms that
// live.js draws again after the page loaded.
(function () {
  "use strict";
  if (window.anxinConfirm) return;
  window.anxinConfirm = true;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset || !form.dataset.confirm) return;
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
})();
