// Bellwether's demo website: a tiny Segment-spec tracker (a real site
// uses analytics.js, see docs/api.md#website-activation) and the
// personalization of the page from GET /v1/personalize.
(function () {
  "use strict";
  var key = document.documentElement.getAttribute("data-write-key");

  function anonymousId() {
    var id = localStorage.getItem("bw_anonymous_id");
    if (!id) {
      id = window.crypto && crypto.randomUUID
        ? crypto.randomUUID()
        : "anon-" + Date.now().toString(36) + Math.random().toString(36).slice(2);
      localStorage.setItem("bw_anonymous_id", id);
    }
    return id;
  }

  // text/plain with the key in the body: a "simple" request, as
  // analytics.js sends it. Resolves once Bellwether acknowledged it.
  function send(type, message) {
    message.writeKey = key;
    message.anonymousId = anonymousId();
    return fetch("/v1/" + type, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify(message),
    });
  }

  function personalize() {
    return fetch("/v1/personalize?anonymousId=" + encodeURIComponent(anonymousId()), {
      headers: { authorization: "Basic " + btoa(key + ":") },
    }).then(function (response) {
      return response.ok ? response.json() : { segments: [], tiers: {} };
    });
  }

  // The first `data-when-segment` block whose segment the visitor is in is
  // shown, else the `data-default` one.
  function showFitting(container, visitor) {
    var blocks = container.querySelectorAll("[data-when-segment], [data-default]");
    var chosen = null;
    blocks.forEach(function (block) {
      var segment = block.getAttribute("data-when-segment");
      if (!chosen && segment && visitor.segments.indexOf(segment) >= 0) chosen = block;
    });
    chosen = chosen || container.querySelector("[data-default]");
    blocks.forEach(function (block) { block.hidden = block !== chosen; });
    container.setAttribute("data-shown", chosen ? chosen.getAttribute("data-when-segment") || "default" : "");
  }

  function personalizeAll() {
    return personalize().then(function (visitor) {
      document.querySelectorAll("[data-personalized]").forEach(function (container) {
        showFitting(container, visitor);
      });
      var stage = document.getElementById("stage");
      if (stage) stage.textContent = JSON.stringify(visitor);
      document.documentElement.setAttribute("data-ready", "true");
    });
  }

  var page = document.documentElement.getAttribute("data-page");
  send("page", { name: page, properties: { path: location.pathname, url: location.href, title: document.title } })
    .then(personalizeAll);

  document.querySelectorAll("button[data-benefit]").forEach(function (button) {
    button.addEventListener("click", function () {
      document.documentElement.removeAttribute("data-ready");
      send("track", { event: "Quiz Answered", properties: { benefit: button.getAttribute("data-benefit") } })
        .then(personalizeAll);
    });
  });
})();
