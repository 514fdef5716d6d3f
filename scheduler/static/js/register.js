// The facilitator's register, offline first.
// - A service worker (/presenze/sw.js, scope /presenze) keeps the register pages and their assets, so a register opens, and
//   reloads, with no connection; the list of registers asks it to keep today's and the next meetings in advance.
// - Every mark, walk-in, undo and note is shown at once and put in a queue in IndexedDB (it survives closing the
//   page or the phone), then sent in order when the connection allows. Each carries a client_ref made here: the
//   server stores a mark once, however often it is sent. A page opened again shows what is still to send.
// - A code typed or scanned is checked against the register's own copy of the meeting's codes, offline too.
(function () {
  "use strict";

  // --- the service worker -------------------------------------------------------------------------------------
  var worker = null;
  if ("serviceWorker" in navigator) {
    worker = navigator.serviceWorker.register("/presenze/sw.js", { scope: "/presenze" })
      .then(function () { return navigator.serviceWorker.ready; })
      .catch(function () { return null; });
  }

  function keepPages(urls) {
    if (!worker || !navigator.onLine || !urls.length) { return Promise.resolve(false); }
    return worker.then(function (registration) {
      if (!registration || !registration.active) { return false; }
      registration.active.postMessage({ type: "keep", urls: urls });
      return true;
    });
  }

  // The list of registers: keep the pages of today's and the next meetings on the phone.
  var list = document.getElementById("offline-registers");
  if (list) {
    var urls = JSON.parse(list.getAttribute("data-urls") || "[]");
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.addEventListener("message", function (event) {
        if (event.data && event.data.type === "kept") {
          list.hidden = false;
          list.textContent = list.getAttribute("data-label-kept");
        }
      });
    }
    keepPages(urls);
  }

  var root = document.getElementById("register");
  if (!root) { return; }
  var meetingId = root.getAttribute("data-meeting");
  var csrf = root.getAttribute("data-csrf");
  var markUrl = root.getAttribute("data-mark-url");
  var undoUrl = root.getAttribute("data-undo-url");
  var banner = document.getElementById("sync-banner");
  var errors = document.getElementById("sync-errors");
  var notices = document.getElementById("sync-notices");
  var sending = false;
  var sequence = 0;

  function label(name) { return root.getAttribute("data-label-" + name) || ""; }

  // --- the queue ------------------------------------------------------------------------------------------------
  // IndexedDB where the browser has it; localStorage otherwise (and for marks queued before the queue moved).
  var legacyKey = "tavoli-register-queue-" + meetingId;
  var store = (function () {
    var name = "tavoli-register";
    var opening = null;
    function open() {
      if (!opening) {
        opening = new Promise(function (resolve, reject) {
          if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
          var request = window.indexedDB.open(name, 1);
          request.onupgradeneeded = function () {
            var queue = request.result.createObjectStore("queue", { keyPath: "ref" });
            queue.createIndex("meeting", "meeting");
          };
          request.onsuccess = function () { resolve(request.result); };
          request.onerror = function () { reject(request.error); };
        });
      }
      return opening;
    }
    function run(mode, action) {
      return open().then(function (db) {
        return new Promise(function (resolve, reject) {
          var transaction = db.transaction("queue", mode);
          var request = action(transaction.objectStore("queue"));
          transaction.oncomplete = function () { resolve(request ? request.result : undefined); };
          transaction.onerror = function () { reject(transaction.error); };
          transaction.onabort = function () { reject(transaction.error); };
        });
      });
    }
    function fallback() {
      try { return JSON.parse(window.localStorage.getItem(legacyKey) || "[]"); } catch (e) { return []; }
    }
    function saveFallback(items) { window.localStorage.setItem(legacyKey, JSON.stringify(items)); }
    return {
      all: function () {
        return run("readonly", function (queue) { return queue.index("meeting").getAll(meetingId); })
          .then(function (items) { return items.sort(function (a, b) { return a.seq - b.seq; }); },
            function () { return fallback(); });
      },
      put: function (op) {
        return run("readwrite", function (queue) { return queue.put(op); }).catch(function () {
          var items = fallback().filter(function (item) { return item.ref !== op.ref; });
          items.push(op);
          saveFallback(items);
        });
      },
      remove: function (ref) {
        return run("readwrite", function (queue) { return queue.delete(ref); }).catch(function () {
          saveFallback(fallback().filter(function (item) { return item.ref !== ref; }));
        });
      },
      // Marks an earlier version of the register kept in localStorage move into IndexedDB, once.
      adoptLegacy: function () {
        var old = fallback();
        if (!old.length || !window.indexedDB) { return Promise.resolve(); }
        return Promise.all(old.map(function (op, index) {
          op.meeting = meetingId;
          op.seq = op.seq || index;
          return run("readwrite", function (queue) { return queue.put(op); });
        })).then(function () { window.localStorage.removeItem(legacyKey); }, function () {});
      }
    };
  })();

  function newRef() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") { return window.crypto.randomUUID(); }
    return "r-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function showBanner(count) {
    if (!banner) { return; }
    if (count === 0) {
      banner.hidden = true;
      banner.textContent = "";
      return;
    }
    banner.hidden = false;
    banner.textContent = count === 1 ? label("unsent-one") : label("unsent-many").replace("{n}", String(count));
  }

  function refreshBanner() { return store.all().then(function (items) { showBanner(items.length); return items; }); }

  function showLine(box, text) {
    if (!box) { return; }
    box.hidden = false;
    var line = document.createElement("p");
    line.className = "mb-0";
    line.textContent = text;
    box.appendChild(line);
  }

  function showError(message) { showLine(errors, label("refused") + ": " + message); }

  // --- the page -------------------------------------------------------------------------------------------------
  function field(form, name) { return form.querySelector("input[name='" + name + "']"); }

  function setCount(delta) {
    var count = document.querySelector("#present-count .count");
    if (count) { count.textContent = String(Math.max(0, parseInt(count.textContent, 10) + delta)); }
  }

  function markPending(element, ref) {
    if (!element) { return; }
    element.setAttribute("data-pending-ref", ref);
    if (!element.querySelector(".pending-badge")) {
      var badge = document.createElement("span");
      badge.className = "badge bg-warning text-dark ms-1 pending-badge";
      badge.textContent = label("pending");
      element.appendChild(badge);
    }
  }

  function clearPending(ref) {
    document.querySelectorAll("[data-pending-ref='" + ref + "']").forEach(function (element) {
      element.removeAttribute("data-pending-ref");
      var badge = element.querySelector(".pending-badge");
      if (badge) { badge.remove(); }
    });
  }

  function updateCardBadge(element) {
    var card = element && element.closest(".register-card");
    if (!card) { return; }
    var badge = card.querySelector(".present-badge");
    if (badge) {
      badge.hidden = !card.querySelector(".person-toggle[data-op='undo'], .extra-list li");
    }
  }

  function toggleOf(rsvpId, person) {
    var forms = document.querySelectorAll("form.person-toggle");
    for (var i = 0; i < forms.length; i++) {
      var rsvp = field(forms[i], "rsvp_id");
      var name = field(forms[i], "person_name");
      if (rsvp && name && rsvp.value === String(rsvpId) && name.value === person) { return forms[i]; }
    }
    return null;
  }

  function isOn(form) { return form.getAttribute("data-op") === "undo"; }

  function setToggle(form, on, ref) {
    var button = form.querySelector("button");
    var state = form.querySelector(".state");
    form.setAttribute("data-op", on ? "undo" : "mark");
    form.setAttribute("action", on ? undoUrl : markUrl);
    field(form, "client_ref").value = on ? ref : "";
    field(form, "attendance_id").value = "";
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.classList.toggle("btn-success", on);
    button.classList.toggle("btn-outline-primary", !on);
    if (state) { state.textContent = state.getAttribute(on ? "data-on" : "data-off"); }
    var departure = form.id ? document.querySelector("form.departure-form[data-toggle='" + form.id + "']") : null;
    if (departure) {
      departure.hidden = !on;
      if (!on) { setDeparture(departure, false, ""); }
    }
    updateCardBadge(form);
  }

  // A departure form as it shows a person out (at `time`) or in.
  function setDeparture(form, out, time) {
    form.setAttribute("data-op", out ? "back" : "leave");
    var back = field(form, "back");
    if (out && !back) {
      back = document.createElement("input");
      back.type = "hidden";
      back.name = "back";
      back.value = "1";
      form.appendChild(back);
    } else if (!out && back) {
      back.remove();
    }
    var state = form.querySelector(".departure-state");
    if (state) { state.textContent = out ? state.getAttribute("data-out").replace("{time}", time) : ""; }
    var button = form.querySelector("button");
    if (button && button.firstChild) {
      button.firstChild.textContent = button.getAttribute(out ? "data-back" : "data-leave");
    }
  }

  function clockOf(iso) {
    var moment = new Date(iso);
    return String(moment.getHours()) + ":" + ("0" + moment.getMinutes()).slice(-2);
  }

  function undoFormFor(ref, name) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = undoUrl;
    form.className = "js-register d-inline";
    form.setAttribute("data-op", "undo");
    [["csrf_token", csrf], ["client_ref", ref], ["attendance_id", ""]].forEach(function (pair) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = pair[0];
      input.value = pair[1];
      form.appendChild(input);
    });
    var button = document.createElement("button");
    button.type = "submit";
    button.className = "btn btn-sm btn-outline-secondary";
    button.textContent = label("undo");
    button.setAttribute("aria-label", label("undo") + " – " + name);
    form.appendChild(button);
    return form;
  }

  // What a submitted form asks for, as the queue keeps it: where it goes, what it sends, how the page shows it.
  function describe(form, method) {
    var op = form.getAttribute("data-op");
    var data = {};
    new FormData(form).forEach(function (value, key) {
      if (key === "csrf_token") { return; }
      if (key === "person_name" && data[key] !== undefined) { return; }
      data[key] = value;
    });
    if (method) { data.method = method; }
    data.at = new Date().toISOString(); // when it happened, not when the queue gets it to the server
    var ref = newRef();
    var view = { op: op };
    if (form.classList.contains("departure-form")) {
      var toggle = form.getAttribute("data-toggle") ? document.getElementById(form.getAttribute("data-toggle")) : null;
      if (toggle) { // a person marked on this page: the mark's id, or the ref of a mark still to send
        data.attendance_id = field(toggle, "attendance_id").value;
        data.client_ref = field(toggle, "client_ref").value;
      }
      view.departure = { toggle: form.getAttribute("data-toggle"), id: data.attendance_id, ref: data.client_ref,
        out: op === "leave", time: clockOf(data.at) };
    }
    if (op === "mark" || op === "add") { data.client_ref = ref; }
    if (form.classList.contains("person-toggle")) {
      view.toggle = { rsvp: data.rsvp_id, person: data.person_name };
    }
    if (op === "add") {
      var name = (data.person_name || "").trim();
      if (!name) { return null; }
      var who = name;
      if (data.guest_organization) { who += " – " + data.guest_organization; }
      var select = form.querySelector("select");
      if (select && select.selectedIndex > 0) { who += " – " + select.options[select.selectedIndex].text; }
      view.target = form.getAttribute("data-target");
      view.who = who;
      view.name = name;
    }
    if (op === "undo" && !view.toggle && !view.departure) {
      view.remove = { ref: data.client_ref, id: data.attendance_id };
    }
    if (op === "notes") { view.notes = data.notes; }
    sequence += 1;
    return { ref: ref, meeting: meetingId, seq: Date.now() * 1000 + (sequence % 1000),
      url: form.getAttribute("action"), data: data, view: view };
  }

  function removedItem(remove) {
    var forms = document.querySelectorAll("form[data-op='undo']:not(.person-toggle)");
    for (var i = 0; i < forms.length; i++) {
      var ref = field(forms[i], "client_ref");
      var id = field(forms[i], "attendance_id");
      if ((remove.ref && ref && ref.value === remove.ref) || (remove.id && id && id.value === remove.id)) {
        return forms[i].closest("li");
      }
    }
    return null;
  }

  // Show an operation on the page. `replay`: the page was opened again (perhaps from the phone's copy) with the
  // operation still to send, so only what the page does not show yet changes.
  function departureForm(departure) {
    if (departure.toggle) {
      return document.querySelector("form.departure-form[data-toggle='" + departure.toggle + "']");
    }
    var forms = document.querySelectorAll("form.departure-form");
    for (var i = 0; i < forms.length; i++) {
      var id = field(forms[i], "attendance_id");
      var ref = field(forms[i], "client_ref");
      if ((departure.id && id && id.value === departure.id) || (departure.ref && ref && ref.value === departure.ref)) {
        return forms[i];
      }
    }
    return null;
  }

  function render(op, replay) {
    var view = op.view || {};
    if (view.departure) {
      var departure = departureForm(view.departure);
      if (departure) {
        setDeparture(departure, view.departure.out, view.departure.time);
        markPending(departure.querySelector("button"), op.ref);
      }
    } else if (view.toggle) {
      var form = toggleOf(view.toggle.rsvp, view.toggle.person);
      if (!form) { return; }
      var on = view.op === "mark";
      if (isOn(form) !== on) {
        setToggle(form, on, on ? op.data.client_ref : "");
        setCount(on ? 1 : -1);
      }
      if (on) { markPending(form.querySelector("button"), op.ref); }
    } else if (view.remove) {
      var item = removedItem(view.remove);
      if (item) {
        var card = item.closest(".register-card");
        item.remove();
        if (card) { updateCardBadge(card.querySelector("form") || card); }
        setCount(-1);
      }
    } else if (view.op === "add") {
      if (document.querySelector("[data-pending-ref='" + op.ref + "']")) { return; }
      var target = document.querySelector(view.target);
      if (!target) { return; }
      var li = document.createElement("li");
      li.className = target.id === "walk-in-list" ? "list-group-item register-card" : "mb-1";
      li.setAttribute("data-search", view.who.toLowerCase());
      var badge = document.createElement("span");
      badge.className = "badge bg-success";
      badge.textContent = label("present");
      li.appendChild(badge);
      li.appendChild(document.createTextNode(" " + view.who + " "));
      li.appendChild(undoFormFor(op.ref, view.name));
      target.appendChild(li);
      markPending(li, op.ref);
      updateCardBadge(target);
      setCount(1);
    } else if (view.op === "notes") {
      var notes = document.getElementById("notes-text");
      if (notes && replay) { notes.value = view.notes || ""; }
      var button = notes && notes.form ? notes.form.querySelector("button") : null;
      markPending(button, op.ref);
    }
  }

  function clearInputs(form) {
    form.querySelectorAll("input[type=text], input[type=email], input:not([type])").forEach(function (input) {
      input.value = "";
    });
    var select = form.querySelector("select");
    if (select) { select.selectedIndex = 0; }
  }

  // --- sending ------------------------------------------------------------------------------------------------
  function send(op) {
    var body = new URLSearchParams();
    Object.keys(op.data).forEach(function (key) { body.append(key, op.data[key]); });
    return fetch(op.url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      redirect: "manual",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf }
    });
  }

  // A page kept from before a new sign-in has an old form token: take the current one from the register itself.
  function renewToken() {
    return fetch(window.location.pathname, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok && !response.redirected ? response.text() : ""; })
      .then(function (html) {
        var match = /data-csrf="([^"]+)"/.exec(html);
        if (match) { csrf = match[1]; return true; }
        return false;
      }, function () { return false; });
  }

  function outcomeOf(response) {
    var type = response.headers.get("Content-Type") || "";
    if (response.ok && type.indexOf("json") !== -1) {
      return response.json().then(function (payload) {
        if (payload.already && payload.message) { showLine(notices, payload.message); }
        return "done";
      });
    }
    if (response.status >= 400 && response.status < 500 && type.indexOf("json") !== -1) {
      return response.json().then(function (payload) {
        if (payload.csrf) { return renewToken().then(function (renewed) { return renewed ? "again" : "retry"; }); }
        showError(payload.error || String(response.status));
        return "done";
      });
    }
    if (response.status === 403 || response.status === 404 || response.status === 405) {
      showError(String(response.status));
      return Promise.resolve("done"); // refused for good: do not block the marks behind it
    }
    return Promise.resolve("retry"); // signed out, server error, a proxy's page: keep the mark
  }

  // Send the queue in order; stop at the first network failure and try again later.
  function flush() {
    if (sending) { return Promise.resolve(); }
    sending = true;
    return store.all().then(function (queue) {
      showBanner(queue.length);
      if (queue.length === 0) { sending = false; return null; }
      var op = queue[0];
      return send(op).then(outcomeOf, function () { return "retry"; }).then(function (outcome) {
        sending = false;
        if (outcome === "done") {
          return store.remove(op.ref).then(function () { clearPending(op.ref); return flush(); });
        }
        if (outcome === "again") { return flush(); }
        return refreshBanner();
      });
    }, function () { sending = false; });
  }

  function submit(form, method) {
    var op = describe(form, method);
    if (!op) { return null; }
    render(op, false);
    if (op.view.op === "add") { clearInputs(form); }
    store.put(op).then(function () { return refreshBanner(); }).then(function () { flush(); });
    return op;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.classList || !form.classList.contains("js-register")) { return; }
    event.preventDefault();
    submit(form);
  });

  // --- codes: typed, or read by the scanner --------------------------------------------------------------------
  var codesElement = document.getElementById("register-codes");
  var codes = codesElement ? JSON.parse(codesElement.textContent || "[]") : [];
  var result = document.getElementById("scan-result");

  function showResult(ok, text) {
    if (!result) { return; }
    result.hidden = false;
    result.className = "alert scan-result " + (ok ? "alert-success" : "alert-danger");
    result.textContent = text;
  }

  // What a code stands for at this meeting, from the register's own copy: {ok, text} or null (not known here).
  function lookUp(text) {
    var value = (text || "").trim();
    var link = /\/presenze\/(\d+)\/codice\/([^\/?#\s]+)/.exec(value);
    if (link) {
      if (link[1] !== String(meetingId)) { return { ok: false, text: label("other-meeting") }; }
      value = decodeURIComponent(link[2]);
    }
    var short = value.replace(/[\s-]/g, "").toUpperCase();
    var entry = null;
    for (var i = 0; i < codes.length && !entry; i++) {
      if (codes[i].code === value || (short.length <= 16 && codes[i].short === short)) { entry = codes[i]; }
    }
    if (!entry) { return link ? { ok: false, text: label("unknown-code") } : null; }
    if (entry.status === "no") { return { ok: false, text: entry.entity + ": " + label("withdrawn") }; }
    if (entry.status === "waitlist") { return { ok: false, text: entry.entity + ": " + label("waiting") }; }
    var person = entry.person || (entry.people.length === 1 ? entry.people[0] : null);
    if (!person) {
      var card = document.getElementById("rsvp-" + entry.rsvp);
      if (card) {
        card.scrollIntoView({ block: "center" });
        card.classList.add("border", "border-4", "border-primary");
      }
      return { ok: true, text: entry.entity + ": " + label("entity-code") };
    }
    var toggle = toggleOf(entry.rsvp, person);
    if (!toggle) { return { ok: false, text: label("unknown-code") }; } // no longer among the answer's people
    if (isOn(toggle)) { return { ok: false, text: label("already") + ": " + person + " – " + entry.entity }; }
    submit(toggle, "qr");
    return { ok: true, text: label("present") + ": " + person + " – " + entry.entity };
  }

  var codeForm = document.getElementById("code-form");
  if (codeForm) {
    codeForm.addEventListener("submit", function (event) {
      var input = codeForm.querySelector("input[name='code']");
      var found = lookUp(input.value);
      if (found === null && navigator.onLine) { return; } // the server knows codes of other meetings too
      event.preventDefault();
      if (found === null) { found = { ok: false, text: label("unknown-code") }; }
      showResult(found.ok, found.text);
      input.value = "";
    });
  }

  var scanButton = document.getElementById("scan-open");
  var scanner = document.getElementById("scanner");
  if (scanButton && scanner && window.TavoliScanner && window.TavoliScanner.available()) {
    var video = scanner.querySelector("video");
    var status = document.getElementById("scanner-status");
    var stop = null;
    var last = { text: "", at: 0 };
    scanButton.hidden = false;
    scanButton.addEventListener("click", function () {
      scanner.hidden = false;
      scanButton.hidden = true;
      status.textContent = label("camera-starting");
      stop = window.TavoliScanner.start(video, function (text) {
        var now = Date.now();
        if (text === last.text && now - last.at < 3000) { return; } // the same code still in front of the camera
        last = { text: text, at: now };
        var found = lookUp(text) || { ok: false, text: label("unknown-code") };
        showResult(found.ok, found.text);
      }, function (ready) {
        status.textContent = ready ? label("camera-ready") : label("camera-refused");
      });
    });
    document.getElementById("scan-close").addEventListener("click", function () {
      if (stop) { stop(); stop = null; }
      scanner.hidden = true;
      scanButton.hidden = false;
      scanButton.focus();
    });
  }

  // --- filter -------------------------------------------------------------------------------------------------
  var search = document.getElementById("register-search");
  if (search) {
    search.addEventListener("input", function () {
      var needle = search.value.trim().toLowerCase();
      document.querySelectorAll(".register-card").forEach(function (card) {
        card.hidden = needle !== "" && (card.getAttribute("data-search") || "").indexOf(needle) === -1;
      });
    });
  }

  window.addEventListener("online", function () { flush(); });
  window.setInterval(function () { flush(); }, 4000);

  // This page is kept on the phone as soon as it is open (by the service worker as it passes, or, the first time,
  // before the worker controls the page, on request); what is still to send is shown on it and sent.
  if (!navigator.serviceWorker || !navigator.serviceWorker.controller) { keepPages([window.location.pathname]); }
  store.adoptLegacy().then(function () { return store.all(); }).then(function (queue) {
    queue.forEach(function (op) { render(op, true); });
    showBanner(queue.length);
    if (queue.length > 0 && navigator.onLine) {
      flush().then(function () {
        return store.all();
      }).then(function (left) {
        if (left && left.length === 0) { window.location.reload(); } // show the register as the server has it
      });
    }
  });
})();
