// Copy buttons: any element with data-copy gets a button that puts its text on the clipboard.
// Served from /static (the CSP allows only same-origin scripts, never inline ones).
(function () {
  "use strict";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain http (local development): the clipboard API is unavailable; select and copy.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var done = document.execCommand("copy");
    document.body.removeChild(area);
    return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  var values = document.querySelectorAll("[data-copy]");
  if (!values.length) {
    return;
  }
  // One polite live region tells screen readers what was copied.
  var status = document.createElement("div");
  status.className = "visually-hidden";
  status.setAttribute("aria-live", "polite");
  document.body.appendChild(status);

  values.forEach(function (value) {
    var button = document.createElement("button");
    var label = value.getAttribute("data-copy") || "value";
    button.type = "button";
    button.className = "secondary copy-button";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy " + label);
    button.addEventListener("click", function () {
      copyText(value.textContent.trim()).then(
        function () {
          button.textContent = "Copied";
          status.textContent = label + " copied";
        },
        function () {
          button.textContent = "Select and copy";
          status.textContent = "Copying failed: select the text and copy it";
        }
      );
      window.setTimeout(function () { button.textContent = "Copy"; }, 2000);
    });
    value.insertAdjacentElement("afterend", button);
  });
})();
