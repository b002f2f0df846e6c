// watchpost console: ticking ages and timers, keyboard shortcuts (never inside a field; on
// the selected call when several are on screen; none on a closed alarm), the guard that keeps
// a live refresh from wiping what the agent is typing, and the attention cues (a beep and the
// tab title for a new priority 1 or 2 alarm; rows that change colour when they wait too
// long). Plain script, no build step; htmx and its SSE extension do the requests.
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
      // The alarm panel refreshes on an `alarm` event for its alarm (wpMine); the filter is
      // here rather than in an hx-trigger filter, which htmx would have to eval (the CSP
      // allows no eval).
      source.addEventListener('alarm', function (e) {
        var panel = document.getElementById('panel');
        if (panel && window.wpMine(e)) htmx.trigger(panel, 'wp:mine');
      });
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

  // Every request htmx makes carries the session's CSRF token (forms also carry it as a
  // field, for a browser without this script); the center refuses a change without it.
  var csrf = document.querySelector('meta[name="csrf-token"]');
  document.addEventListener('htmx:configRequest', function (e) {
    if (csrf) e.detail.headers['X-CSRF-Token'] = csrf.getAttribute('content');
  });
  // A refusal htmx would not show (it swaps only successful answers): say it.
  document.addEventListener('htmx:responseError', function (e) {
    var xhr = e.detail && e.detail.xhr;
    if (xhr && xhr.status === 403) window.alert(xhr.responseText);
  });

  // Content-Security-Policy violations, kept on the page for the browser tests to read:
  // the console must never need anything the policy refuses.
  document.addEventListener('securitypolicyviolation', function (e) {
    var root = document.documentElement;
    var seen = root.getAttribute('data-csp-violations');
    var what = e.violatedDirective + ' ' + (e.blockedURI || 'inline');
    root.setAttribute('data-csp-violations', seen ? seen + '\n' + what : what);
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
    document.querySelectorAll('[data-until]').forEach(function (el) {
      el.textContent = age(Number(el.getAttribute('data-until')) - now);
    });
    document.querySelectorAll('[data-late-at]').forEach(function (el) {
      el.classList.toggle('late', now >= Number(el.getAttribute('data-late-at')));
    });
  }

  // The agent has typed into the alarm panel and not sent it yet, or is in one of its
  // fields (a refresh would take the focus away, and the next letters would be shortcuts).
  function busy(panel) {
    if (typing(document.activeElement) && panel.contains(document.activeElement)) return true;
    return Array.prototype.some.call(
      panel.querySelectorAll('input[type=text], input[type=password], textarea'),
      function (input) { return input.value !== ''; });
  }

  // Whether the alarm panel refreshes on an `alarm` event: one for this alarm, unless the
  // agent is typing (then a banner offers the refresh instead).
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

  // The queue's live refresh waits while the agent is in one of its fields or one holds text
  // (an unknown-account item's account or reason): in a storm refreshes come all the time, and
  // each would wipe what is being typed. Leaving the field catches up (`wp:catchup`).
  var queueHeld = false;
  function queueBusy(live) {
    if (typing(document.activeElement) && live.contains(document.activeElement)) return true;
    return Array.prototype.some.call(
      live.querySelectorAll('input:not([type=hidden]):not([type=submit]), textarea'),
      function (input) { return input.value !== ''; });
  }
  document.addEventListener('htmx:beforeRequest', function (e) {
    var live = e.detail && e.detail.elt;
    if (!live || live.id !== 'queue-live' || !queueBusy(live)) return;
    queueHeld = true;
    e.preventDefault();
  });
  document.addEventListener('focusout', function () {
    var live = document.getElementById('queue-live');
    // After the focus has moved: the new focus may be another field of the queue.
    setTimeout(function () {
      if (live && queueHeld && !queueBusy(live)) {
        queueHeld = false;
        htmx.trigger(live, 'wp:catchup');
      }
    }, 0);
  });

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

  // The call cards on the alarm screen; the selected one is what call shortcuts act on.
  var chosenCall = null;
  function callCards() {
    return Array.prototype.slice.call(document.querySelectorAll('#panel .card.call'));
  }
  function selectCall(card) {
    var cards = callCards();
    if (!cards.length) return;
    if (!card) {
      card = cards.filter(function (c) { return c.getAttribute('data-call') === chosenCall; })[0];
    }
    if (!card) {
      // The server marks the newest call; the agent's choice is gone (that call ended).
      chosenCall = null;
      card = cards.filter(function (c) { return c.classList.contains('selected'); })[0] ||
        cards[cards.length - 1];
    }
    cards.forEach(function (c) { c.classList.toggle('selected', c === card); });
  }

  // The element a shortcut acts on: inside the selected call card first; elsewhere only
  // outside every call card, so a key never acts on a call the agent did not select.
  function shortcutTarget(key) {
    var css = '[data-key="' + key + '"]';
    var card = document.querySelector('#panel .card.call.selected');
    var inCard = card && card.querySelector(css);
    if (inCard) return inCard;
    var all = document.querySelectorAll(css);
    for (var i = 0; i < all.length; i++) {
      if (!all[i].closest('.card.call')) return all[i];
    }
    return null;
  }

  // On a closed alarm only these keys do anything: it can be looked at, not acted on.
  var CLOSED_KEYS = /^[rq]$/;
  // An alarm that closes while its screen is open: the legend keeps only those keys.
  function closedLegend() {
    if (!document.querySelector('#panel .screen.closed')) return;
    document.querySelectorAll('footer.keys span').forEach(function (span) {
      var kbd = span.querySelector('kbd');
      if (kbd && !CLOSED_KEYS.test(kbd.textContent)) span.hidden = true;
    });
  }

  // A field's own shortcut letter pressed in it while it is empty is taken as the shortcut
  // (the agent meant "go to the field", and is there), not typed: a password attempt never
  // goes out with that letter added. To begin with that letter, type it as a capital (the
  // verbal password check ignores case); a note beside the field says so.
  function swallowOwnKey(field, e) {
    if (field.value !== '' || field.getAttribute('data-key') !== e.key) return false;
    var note = field.parentNode.querySelector('.key-note');
    if (!note) {
      note = document.createElement('span');
      note.className = 'key-note muted';
      field.insertAdjacentElement('afterend', note);
    }
    note.textContent = '"' + e.key + '" is this field\'s shortcut and was not typed; to begin ' +
      'with it, type "' + e.key.toUpperCase() + '".';
    return true;
  }

  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var active = document.activeElement;
    if (typing(active)) {
      // No shortcut ever fires inside a field; Escape leaves it.
      if (e.key === 'Escape') active.blur();
      else if (swallowOwnKey(active, e)) e.preventDefault();
      return;
    }
    if ((e.key === 'j' || e.key === 'k') && move(e.key === 'j' ? 1 : -1)) {
      e.preventDefault();
      return;
    }
    if (document.querySelector('#panel .screen.closed') && !CLOSED_KEYS.test(e.key)) return;
    if (/^[1-9]$/.test(e.key)) {
      var card = callCards()[Number(e.key) - 1];
      if (card) {
        chosenCall = card.getAttribute('data-call');
        selectCall(card);
        e.preventDefault();
      }
      return;
    }
    if (!/^[a-z]$/.test(e.key)) return;
    var target = shortcutTarget(e.key);
    if (!target || target.disabled) return;
    e.preventDefault();
    if (typing(target)) target.focus(); else target.click();
  });

  // A click in a call card selects that call.
  document.addEventListener('click', function (e) {
    var card = e.target.closest && e.target.closest('#panel .card.call');
    if (card) {
      chosenCall = card.getAttribute('data-call');
      selectCall(card);
    }
  }, true);

  // Attention: untaken priority 1 and 2 alarms (the hidden #arrivals list, refreshed on
  // each alarm event) the agent has not seen in the queue yet beep once and put
  // "(2) P1 FIRE – watchpost" in the tab title, until the agent looks at the queue (opens
  // it, or uses it: a key, a click, the pointer). Seen and beeped alarms are remembered in
  // the browser (localStorage), across pages.
  var baseTitle = document.title;
  var audio = null;
  window.wpAttention = { beeps: 0 };
  function remembered(name) {
    try { return JSON.parse(localStorage.getItem(name) || '[]'); } catch (_) { return []; }
  }
  function remember(name, ids) {
    try { localStorage.setItem(name, JSON.stringify(ids.slice(-500))); } catch (_) { /* full */ }
  }
  // A short two-tone beep made here (WebAudio): no sound file, nothing from the network.
  function beep() {
    window.wpAttention.beeps += 1;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      [0, 0.18].forEach(function (start, n) {
        var osc = audio.createOscillator(), gain = audio.createGain();
        osc.frequency.value = n ? 660 : 880;
        gain.gain.value = 0.25;
        osc.connect(gain);
        gain.connect(audio.destination);
        osc.start(audio.currentTime + start);
        osc.stop(audio.currentTime + start + 0.15);
      });
    } catch (_) { /* no audio: the title still changes */ }
  }
  function arrivals() {
    return Array.prototype.slice.call(document.querySelectorAll('#arrivals [data-alarm]'));
  }
  function onQueue() { return !!document.getElementById('queue-table'); }
  function lookedAtQueue() {
    if (!onQueue()) return;
    var seen = remembered('wp-seen');
    arrivals().forEach(function (el) {
      var id = el.getAttribute('data-alarm');
      if (seen.indexOf(id) < 0) seen.push(id);
    });
    remember('wp-seen', seen);
    showTitle();
  }
  function showTitle() {
    var seen = remembered('wp-seen');
    var panel = document.getElementById('panel');
    var here = panel && panel.getAttribute('data-alarm');
    var unseen = arrivals().filter(function (el) {
      var id = el.getAttribute('data-alarm');
      return seen.indexOf(id) < 0 && id !== here;
    });
    if (!unseen.length) {
      document.title = baseTitle;
      return;
    }
    unseen.sort(function (a, b) {
      return Number(a.getAttribute('data-priority')) - Number(b.getAttribute('data-priority')) ||
        Number(b.getAttribute('data-alarm')) - Number(a.getAttribute('data-alarm'));
    });
    var top = unseen[0];
    document.title = '(' + unseen.length + ') P' + top.getAttribute('data-priority') + ' ' +
      top.getAttribute('data-kind') + ' \u2013 watchpost';
  }
  var firstArrivals = true;
  function arrived() {
    var beeped = remembered('wp-beeped');
    var fresh = arrivals().map(function (el) { return el.getAttribute('data-alarm'); })
      .filter(function (id) { return beeped.indexOf(id) < 0; });
    if (fresh.length) {
      beep();
      remember('wp-beeped', beeped.concat(fresh));
    }
    // Opening the queue is looking at it; later arrivals wait for the agent to use it.
    if (firstArrivals && onQueue() && document.visibilityState === 'visible') lookedAtQueue();
    firstArrivals = false;
    showTitle();
  }
  ['keydown', 'mousedown', 'pointermove'].forEach(function (name) {
    document.addEventListener(name, lookedAtQueue, true);
  });
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible') lookedAtQueue();
  });

  // A click anywhere on a queue row opens it.
  document.addEventListener('click', function (e) {
    var tr = e.target.closest && e.target.closest('tr[data-href]');
    if (tr && !e.target.closest('a, button, form')) window.location = tr.getAttribute('data-href');
  });

  document.addEventListener('htmx:afterSwap', function (e) {
    if (e.target && e.target.id === 'arrivals') {
      arrived();
      return;
    }
    selectCall(null);
    closedLegend();
    tick();
    if (selected && (document.activeElement === document.body || !document.activeElement)) {
      var again = rows().filter(function (a) { return a.getAttribute('href') === selected; })[0];
      if (again) select(again);
    }
  });

  document.addEventListener('DOMContentLoaded', function () {
    var now = document.body.getAttribute('data-now');
    if (now) skew = Number(now) - Date.now();
    baseTitle = document.title;
    selectCall(null);
    tick();
    setInterval(tick, 1000);
  });
})();
