// watchpost console: ticking ages, keyboard shortcuts, and the guard that keeps a live
// refresh from wiping what the agent is typing. Plain script, no build step; htmx and its SSE
// extension do the requests.
(function () {
  'use strict';

  // Live updates: the SSE extension opens one EventSource per page. A browser allows only
  // six connections to the center (HTTP/1.1), so a page that is left closes its own at once,
  // even if the browser keeps the page in its back/forward cache; a page shown again from
  // that cache is reloaded, fresh and reconnected.
  var sources = [];
  if (window.htmx && htmx.createEventSource) {
    var open = htmx.createEventSource;
    htmx.createEventSource = function (url) {
      var source = open(url);
      sources.push(source);
      return source;
    };
  }
  window.addEventListener('pagehide', function () {
    sources.forEach(function (source) { source.close(); });
    sources = [];
  });
  window.addEventListener('pageshow', function (e) {
    if (e.persisted) window.location.reload();
  });

  // Server clock minus browser clock, so ages count from the center's time.
  var skew = 0;

  function age(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var pad = function (n) { return (n < 10 ? '0' : '') + n; };
    if (h > 0) return h + 'h ' + pad(m) + 'm';
    if (m > 0) return m + 'm ' + pad(sec) + 's';
    return sec + 's';
  }

  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll('[data-since]').forEach(function (el) {
      el.textContent = age(now - Number(el.getAttribute('data-since')));
    });
  }

  // The agent has typed into the alarm panel and not sent it yet.
  function busy(panel) {
    return Array.prototype.some.call(
      panel.querySelectorAll('input[type=text], input[type=password], textarea'),
      function (input) { return input.value !== ''; });
  }

  // hx-trigger filter of the alarm panel: an `alarm` event for this alarm, unless the agent
  // is typing (then a banner offers the refresh instead).
  window.wpMine = function (detail) {
    var panel = document.getElementById('panel');
    if (!panel || !detail) return false;
    var change;
    try { change = JSON.parse(detail.data); } catch (_) { return false; }
    if (String(change.alarm) !== panel.getAttribute('data-alarm')) return false;
    if (busy(panel)) {
      var stale = document.getElementById('stale');
      if (stale) stale.hidden = false;
      return false;
    }
    return true;
  };

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    if (tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable) return true;
    return tag === 'INPUT' && !/^(submit|button|checkbox|radio|reset)$/.test(el.type);
  }

  // Queue: j / k move between rows, Enter opens (the row's link has the focus).
  var selected = null;
  function rows() { return Array.prototype.slice.call(document.querySelectorAll('a[data-row]')); }
  function select(link) {
    document.querySelectorAll('tr.selected').forEach(function (tr) { tr.classList.remove('selected'); });
    if (!link) return;
    selected = link.getAttribute('href');
    link.closest('tr').classList.add('selected');
    link.focus();
  }
  function move(step) {
    var links = rows();
    if (!links.length) return false;
    var at = links.indexOf(document.activeElement);
    if (at < 0) at = links.findIndex(function (a) { return a.getAttribute('href') === selected; });
    var next = at < 0 ? 0 : Math.min(links.length - 1, Math.max(0, at + step));
    select(links[next]);
    return true;
  }

  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var active = document.activeElement;
    if (typing(active)) {
      if (e.key === 'Escape') active.blur();
      return;
    }
    if ((e.key === 'j' || e.key === 'k') && move(e.key === 'j' ? 1 : -1)) {
      e.preventDefault();
      return;
    }
    if (!/^[a-z]$/.test(e.key)) return;
    var target = document.querySelector('[data-key="' + e.key + '"]');
    if (!target || target.disabled) return;
    e.preventDefault();
    if (typing(target)) target.focus(); else target.click();
  });

  // A click anywhere on a queue row opens it.
  document.addEventListener('click', function (e) {
    var tr = e.target.closest && e.target.closest('tr[data-href]');
    if (tr && !e.target.closest('a, button, form')) window.location = tr.getAttribute('data-href');
  });

  document.addEventListener('htmx:afterSwap', function () {
    tick();
    if (selected && (document.activeElement === document.body || !document.activeElement)) {
      var again = rows().filter(function (a) { return a.getAttribute('href') === selected; })[0];
      if (again) select(again);
    }
  });

  document.addEventListener('DOMContentLoaded', function () {
    var now = document.body.getAttribute('data-now');
    if (now) skew = Number(now) - Date.now();
    tick();
    setInterval(tick, 1000);
  });
})();
