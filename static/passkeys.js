// Passkeys: a form with data-passkey="login", "register" or "signup" runs the browser's WebAuthn
// prompt ("signup" takes the address from the input named by data-email-input).
// Served from /static (the CSP allows only same-origin scripts, never inline ones). The form
// stays hidden without this script or without WebAuthn, and the password form still works.
// Steps: POST {} (or {name, password}, {email}) to data-options-url, ask the browser, POST the answer to the
// form's action; both are JSON with the page's CSRF token in the X-CSRFToken header.
(function () {
  "use strict";

  var forms = document.querySelectorAll("form[data-passkey]");
  if (!forms.length) {
    return;
  }
  if (!window.PublicKeyCredential || !navigator.credentials) {
    document.querySelectorAll("[data-passkey-unsupported]").forEach(function (note) {
      note.hidden = false;
    });
    return;
  }

  function toBytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    var binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function failure(message, field) {
    var error = new Error(message);
    error.field = field || "passkey";
    return error;
  }

  function post(url, form, body) {
    var token = form.querySelector('input[name="csrf_token"]');
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": token ? token.value : ""
      },
      body: JSON.stringify(body)
    }).then(
      function (response) {
        return response.json().then(
          function (data) {
            if (!response.ok) {
              throw failure(data.error_description || "Something went wrong. Reload the page and try again.", data.field);
            }
            return data;
          },
          function () {
            throw failure("The site answered in a way this page does not understand. Reload it and try again.");
          }
        );
      },
      function () {
        throw failure("Could not reach the site. Check your connection and try again.");
      }
    );
  }

  function creationOptions(options) {
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    (options.excludeCredentials || []).forEach(function (credential) {
      credential.id = toBytes(credential.id);
    });
    return options;
  }

  function requestOptions(options) {
    options.challenge = toBytes(options.challenge);
    (options.allowCredentials || []).forEach(function (credential) {
      credential.id = toBytes(credential.id);
    });
    return options;
  }

  // The JSON form of a PublicKeyCredential (WebAuthn Level 3), built by hand for browsers
  // without credential.toJSON().
  function credentialJSON(credential) {
    var answer = credential.response;
    var json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: { clientDataJSON: toBase64url(answer.clientDataJSON) },
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {}
    };
    if (credential.authenticatorAttachment) {
      json.authenticatorAttachment = credential.authenticatorAttachment;
    }
    if (answer.attestationObject) {
      json.response.attestationObject = toBase64url(answer.attestationObject);
      if (answer.getTransports) {
        json.response.transports = answer.getTransports();
      }
    } else {
      json.response.authenticatorData = toBase64url(answer.authenticatorData);
      json.response.signature = toBase64url(answer.signature);
      if (answer.userHandle) {
        json.response.userHandle = toBase64url(answer.userHandle);
      }
    }
    return json;
  }

  function browserFailure(error) {
    if (error && error.field) {
      return error; // already worded by this page or the site
    }
    var name = error && error.name;
    if (name === "NotAllowedError" || name === "AbortError") {
      return failure("The passkey prompt was closed or timed out, so nothing changed. Press the button to try again.");
    }
    if (name === "InvalidStateError") {
      return failure("This device already holds a passkey for your account here.");
    }
    if (name === "SecurityError") {
      return failure("Passkeys work only on a secure address: open this site over https (or at http://localhost).");
    }
    return failure("This browser could not use a passkey" + (error && error.message ? ": " + error.message : "."));
  }

  function register(form) {
    var name = form.querySelector('input[name="name"]');
    var password = fieldInput(form, "password");
    var body = { name: name ? name.value : "", password: password ? password.value : "" };
    return post(form.getAttribute("data-options-url"), form, body)
      .then(function (data) {
        return navigator.credentials.create({ publicKey: creationOptions(data.options) });
      })
      .then(function (credential) {
        return post(form.action, form, { credential: credentialJSON(credential) });
      });
  }

  function signUp(form) {
    var email = emailInput(form);
    var next = form.querySelector('input[name="next"]');
    return post(form.getAttribute("data-options-url"), form, { email: email ? email.value : "" })
      .then(function (data) {
        return navigator.credentials.create({ publicKey: creationOptions(data.options) });
      })
      .then(function (credential) {
        return post(form.action, form, {
          credential: credentialJSON(credential),
          next: next ? next.value : null
        });
      });
  }

  function signIn(form) {
    var next = form.querySelector('input[name="next"]');
    return post(form.getAttribute("data-options-url"), form, {})
      .then(function (data) {
        return navigator.credentials.get({ publicKey: requestOptions(data.options) });
      })
      .then(function (credential) {
        return post(form.action, form, {
          credential: credentialJSON(credential),
          next: next ? next.value : null
        });
      });
  }

  // The address a sign-up form uses: the password form's, so that it is typed once.
  function emailInput(form) {
    var id = form.getAttribute("data-email-input");
    return id ? document.getElementById(id) : null;
  }

  function fieldInput(form, field) {
    if (field === "name") {
      return form.querySelector('input[name="name"]');
    }
    if (field === "password") {
      return form.querySelector('input[type="password"]');
    }
    return field === "email" ? emailInput(form) : null;
  }

  // An error goes beside the field it is about (the passkey's name, the address) or beside
  // the button.
  function show(form, error) {
    var input = fieldInput(form, error.field);
    var place = form.querySelector("[data-passkey-error]");
    if (input) {
      place = document.getElementById(input.id + "-error");
      if (!place) {
        place = document.createElement("p");
        place.className = "field-error";
        place.id = input.id + "-error";
        input.insertAdjacentElement("afterend", place);
      }
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", place.id);
      input.closest(".field").classList.add("field-invalid");
    }
    place.textContent = error.message;
    place.hidden = false;
    (input || form.querySelector("button")).focus();
  }

  function clear(form) {
    var email = emailInput(form);
    var places = [form];
    if (email && email.closest(".field")) {
      places.push(email.closest(".field"));
    }
    places.forEach(function (place) {
      place.querySelectorAll(".field-error").forEach(function (note) {
        note.hidden = true;
        note.textContent = "";
      });
      place.querySelectorAll("[aria-invalid]").forEach(function (input) {
        input.removeAttribute("aria-invalid");
        var field = input.closest(".field");
        if (field) {
          field.classList.remove("field-invalid");
        }
      });
    });
  }

  // Where the site sends the person next; the same page again (the account page's list)
  // is loaded afresh, which assigning a URL that differs only by its #fragment would not do.
  function go(target) {
    var next = new URL(target, window.location.href);
    if (next.pathname === window.location.pathname && next.search === window.location.search) {
      window.location.hash = next.hash;
      window.location.reload();
    } else {
      window.location.assign(next.href);
    }
  }

  forms.forEach(function (form) {
    form.hidden = false;
    var button = form.querySelector("button");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clear(form);
      button.disabled = true;
      var ceremonies = { register: register, signup: signUp, login: signIn };
      var ceremony = ceremonies[form.getAttribute("data-passkey")] || signIn;
      ceremony(form).then(
        function (data) {
          go(data.redirect);
        },
        function (error) {
          button.disabled = false;
          show(form, browserFailure(error));
        }
      );
    });
  });
})();
