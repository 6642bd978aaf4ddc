// A small core that speaks the MiniWoB++ protocol, written for pilot's
// tests (see ../README.md). A task page defines genProblem(), which draws
// the problem with Math.random and ends the episode with core.endEpisode.
var core = {};

// Math.seedrandom(seed): Math.random becomes a seeded generator
// (mulberry32 over a hash of the seed's text).
Math.seedrandom = function (seed) {
  var text = String(seed), h = 2166136261 >>> 0;
  for (var i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  }
  var a = h;
  Math.random = function () {
    a = (a + 0x6D2B79F5) >>> 0;
    var t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return text;
};

var WOB_REWARD_GLOBAL = 0;      // the reward, discounted by the time taken
var WOB_RAW_REWARD_GLOBAL = 0;  // the reward as the task gave it
var WOB_REWARD_REASON = null;
var WOB_DONE_GLOBAL = false;
var WOB_EPISODE_ID = 0;
var WOB_TASK_READY = false;

core.EPISODE_MAX_TIME = 10000;  // ms; the timer ends the episode with -1
core.ept0 = 0;
core.timer = null;

core.cover = function () {
  var c = document.getElementById('sync-task-cover');
  if (!c) {
    c = document.createElement('div');
    c.id = 'sync-task-cover';
    c.textContent = 'START';
    c.style.cssText = 'position:absolute;left:0;top:0;width:160px;height:210px;background:#eee;font-size:24px;text-align:center;padding-top:90px;cursor:pointer';
    c.addEventListener('click', function () { c.style.display = 'none'; core.startEpisodeReal(); });
    document.body.appendChild(c);
  }
  return c;
};

core.display = function () {
  var d = document.getElementById('reward-display');
  if (!d) {
    d = document.createElement('div');
    d.id = 'reward-display';
    document.body.appendChild(d);
  }
  return d;
};

// startEpisode shows the START cover; a click on it hides it and starts
// the episode. startEpisodeReal alone leaves the cover up.
core.startEpisode = function () {
  core.cover().style.display = 'block';
};

core.startEpisodeReal = function () {
  WOB_TASK_READY = false;
  WOB_DONE_GLOBAL = false;
  WOB_REWARD_GLOBAL = 0;
  WOB_RAW_REWARD_GLOBAL = 0;
  WOB_REWARD_REASON = null;
  WOB_EPISODE_ID++;
  genProblem();
  core.ept0 = Date.now();
  clearTimeout(core.timer);
  // A timeout above 2^31-1 ms overflows and fires at once, as in every
  // browser: the real core has the same trap.
  core.timer = setTimeout(function () { core.endEpisode(-1, false, 'timed out'); }, core.EPISODE_MAX_TIME);
  WOB_TASK_READY = true;
};

core.endEpisode = function (reward, timeProportional, reason) {
  if (WOB_DONE_GLOBAL) return;
  clearTimeout(core.timer);
  var raw = reward;
  if (reward > 0 && timeProportional) {
    var left = 1 - (Date.now() - core.ept0) / core.EPISODE_MAX_TIME;
    reward = reward * Math.max(0, left);
  }
  WOB_RAW_REWARD_GLOBAL = raw;
  WOB_REWARD_GLOBAL = reward;
  WOB_REWARD_REASON = reason === undefined ? null : reason;
  WOB_DONE_GLOBAL = true;
  core.display().textContent = 'Last reward: ' + reward.toFixed(2);
  // The next episode's cover, as the real core shows it.
  setTimeout(core.startEpisode, 500);
};

core.getUtterance = function () {
  var q = document.getElementById('query');
  return q.textContent.replace(/\s+/g, ' ').trim();
};

core.sample = function (list) {
  return list[Math.floor(Math.random() * list.length)];
};

window.addEventListener('load', function () { core.startEpisode(); });
