// Bellwether UI: the two things HTML alone cannot do.
// 1. The segment page's live feed (server-sent events from /ui/stream).
// 2. The editor's live preview (POST /editor/preview as you type).
"use strict";

(function () {
  function text(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  function subjectHref(subject, id) {
    return (subject === "account" ? "/accounts/" : "/contacts/") + encodeURIComponent(id);
  }

  function liveFeed(list) {
    var status = document.getElementById("live-status");
    var source = new EventSource(list.dataset.stream);
    source.addEventListener("open", function () {
      if (status) status.textContent = "live";
      if (status) status.classList.add("on");
    });
    source.addEventListener("error", function () {
      if (status) status.textContent = "reconnecting…";
      if (status) status.classList.remove("on");
    });
    source.addEventListener("change", function (message) {
      var change = JSON.parse(message.data);
      var entered = change.change === "entered";
      var item = document.createElement("li");
      item.className = "fresh";
      item.appendChild(text("span", "pill " + (entered ? "good" : "bad"), change.change));
      item.appendChild(document.createTextNode(" "));
      var link = text("a", "", change.id);
      link.href = subjectHref(change.subject, change.id);
      item.appendChild(link);
      item.appendChild(document.createTextNode(" "));
      var when = text("span", "muted", "just now");
      when.title = change.at;
      item.appendChild(when);
      list.insertBefore(item, list.firstChild);
      while (list.children.length > 50) list.removeChild(list.lastChild);
      var empty = document.getElementById("feed-empty");
      if (empty) empty.remove();
    });
  }

  function livePreview(form, panel) {
    var timer = null;
    var pending = null;
    function refresh() {
      if (pending) pending.abort();
      pending = new AbortController();
      var body = new URLSearchParams(new FormData(form));
      body.delete("token");
      panel.setAttribute("aria-busy", "true");
      fetch(panel.dataset.preview, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        signal: pending.signal,
      })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          panel.innerHTML = html;
          panel.removeAttribute("aria-busy");
          // The backtest line replays 90 days: it follows the count.
          var line = panel.querySelector("[data-backtest]");
          if (!line) return;
          return fetch(line.dataset.backtest, {
            method: "POST",
            body: body,
            credentials: "same-origin",
            signal: pending.signal,
          })
            .then(function (response) { return response.text(); })
            .then(function (html) { line.outerHTML = html; });
        })
        .catch(function (error) {
          if (error.name !== "AbortError") panel.removeAttribute("aria-busy");
        });
    }
    form.addEventListener("input", function (event) {
      if (event.target && event.target.name === "token") return;
      clearTimeout(timer);
      timer = setTimeout(refresh, 300);
    });
    if (form.elements.when && form.elements.when.value.trim() !== "") refresh();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var feed = document.getElementById("feed");
    if (feed && feed.dataset.stream && window.EventSource) liveFeed(feed);
    var form = document.getElementById("editor");
    var panel = document.getElementById("preview");
    if (form && panel && window.fetch) livePreview(form, panel);
  });
})();
