// The facilitator's register keeps working offline: every mark is shown at once, kept in localStorage and
// sent when the connection allows. Each mark carries a client_ref made here; the server stores a mark with a
// client_ref once, so a mark sent twice (its answer lost) is never counted twice.
(function () {
  "use strict";
  var root = document.getElementById("register");
  if (!root) { return; }
  var meetingId = root.getAttribute("data-meeting");
  var csrf = root.getAttribute("data-csrf");
  var markUrl = root.getAttribute("data-mark-url");
  var undoUrl = root.getAttribute("data-undo-url");
  var storageKey = "tavoli-register-queue-" + meetingId;
  var banner = document.getElementById("sync-banner");
  var errors = document.getElementById("sync-errors");
  var sending = false;

  function newRef() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") { return window.crypto.randomUUID(); }
    return "r-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function loadQueue() {
    try { return JSON.parse(window.localStorage.getItem(storageKey) || "[]"); } catch (e) { return []; }
  }

  function saveQueue(queue) {
    window.localStorage.setItem(storageKey, JSON.stringify(queue));
    showBanner(queue.length);
  }

  function showBanner(count) {
    if (!banner) { return; }
    if (count === 0) {
      banner.hidden = true;
      banner.textContent = "";
      return;
    }
    banner.hidden = false;
    banner.textContent = count === 1
      ? root.getAttribute("data-label-unsent-one")
      : root.getAttribute("data-label-unsent-many").replace("{n}", String(count));
  }

  function showError(message) {
    if (!errors) { return; }
    errors.hidden = false;
    var line = document.createElement("p");
    line.className = "mb-0";
    line.textContent = (root.getAttribute("data-label-refused") || "") + ": " + message;
    errors.appendChild(line);
  }

  function field(form, name) { return form.querySelector("input[name='" + name + "']"); }

  function setCount(delta) {
    var count = document.querySelector("#present-count .count");
    if (count) { count.textContent = String(Math.max(0, parseInt(count.textContent, 10) + delta)); }
  }

  function markPending(element, ref) {
    element.setAttribute("data-pending-ref", ref);
    if (!element.querySelector(".pending-badge")) {
      var badge = document.createElement("span");
      badge.className = "badge bg-warning text-dark ms-1 pending-badge";
      badge.textContent = root.getAttribute("data-label-pending");
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

  function updateCardBadge(form) {
    var card = form.closest(".register-card");
    if (!card) { return; }
    var badge = card.querySelector(".present-badge");
    if (badge) {
      badge.hidden = !card.querySelector(".person-toggle[data-op='undo'], .extra-list li");
    }
  }

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
    updateCardBadge(form);
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
    button.textContent = root.getAttribute("data-label-undo");
    button.setAttribute("aria-label", root.getAttribute("data-label-undo") + " – " + name);
    form.appendChild(button);
    return form;
  }

  // Show the change on the page at once; return the operation to queue.
  function apply(form) {
    var op = form.getAttribute("data-op");
    var url = form.getAttribute("action");
    var data = {};
    new FormData(form).forEach(function (value, key) {
      if (key === "csrf_token") { return; }
      if (key === "person_name" && data[key] !== undefined) { return; }
      data[key] = value;
    });
    var ref = newRef();
    if (op === "mark") {
      data.client_ref = ref;
      setToggle(form, true, ref);
      markPending(form.querySelector("button"), ref);
      setCount(1);
    } else if (op === "undo") {
      var toggle = form.classList.contains("person-toggle");
      if (toggle) {
        setToggle(form, false, "");
      } else {
        var item = form.closest("li");
        var card = form.closest(".register-card");
        if (item) { item.remove(); }
        if (card) { updateCardBadge(card.querySelector("form") || card); }
      }
      setCount(-1);
    } else if (op === "add") {
      data.client_ref = ref;
      var name = (data.person_name || "").trim();
      if (!name) { return null; }
      var target = document.querySelector(form.getAttribute("data-target"));
      if (target) {
        var li = document.createElement("li");
        li.className = target.id === "walk-in-list" ? "list-group-item register-card" : "mb-1";
        var who = name;
        if (data.guest_organization) { who += " – " + data.guest_organization; }
        var select = form.querySelector("select");
        if (select && select.selectedIndex > 0) { who += " – " + select.options[select.selectedIndex].text; }
        li.setAttribute("data-search", who.toLowerCase());
        var badge = document.createElement("span");
        badge.className = "badge bg-success";
        badge.textContent = root.getAttribute("data-label-present");
        li.appendChild(badge);
        li.appendChild(document.createTextNode(" " + who + " "));
        li.appendChild(undoFormFor(ref, name));
        target.appendChild(li);
        markPending(li, ref);
        updateCardBadge(form);
      }
      setCount(1);
      form.querySelectorAll("input[type=text], input[type=email], input:not([type])").forEach(function (input) {
        input.value = "";
      });
      if (select) { select.selectedIndex = 0; }
    } else if (op === "notes") {
      markPending(form.querySelector("button"), ref);
    }
    return { ref: ref, url: url, data: data };
  }

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

  // Send the queue in order; stop at the first network failure and try again later.
  function flush() {
    if (sending) { return Promise.resolve(); }
    var queue = loadQueue();
    if (queue.length === 0) { showBanner(0); return Promise.resolve(); }
    sending = true;
    var op = queue[0];
    return send(op).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (response.ok && type.indexOf("json") !== -1) {
        return "done";
      }
      if (response.status >= 400 && response.status < 500 && type.indexOf("json") !== -1) {
        return response.json().then(function (payload) {
          showError(payload.error || String(response.status));
          return "done";
        });
      }
      if (response.status === 403 || response.status === 404 || response.status === 405) {
        showError(String(response.status));
        return "done"; // refused for good: do not block the marks behind it
      }
      return "retry"; // signed out, server error, a proxy's page, a stale form token: keep the mark
    }, function () {
      return "retry";
    }).then(function (outcome) {
      sending = false;
      if (outcome === "done") {
        var current = loadQueue().filter(function (item) { return item.ref !== op.ref; });
        saveQueue(current);
        clearPending(op.ref);
        return flush();
      }
      showBanner(loadQueue().length);
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.classList || !form.classList.contains("js-register")) { return; }
    event.preventDefault();
    var op = apply(form);
    if (!op) { return; }
    var queue = loadQueue();
    queue.push(op);
    saveQueue(queue);
    flush();
  });

  // Filter the cards as the facilitator types.
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

  // Marks left from an earlier visit: send them, then show the page as the server has it.
  var leftover = loadQueue().length;
  showBanner(leftover);
  if (leftover > 0) {
    flush().then(function () {
      if (loadQueue().length === 0) { window.location.reload(); }
    });
  }
})();
