// make phone's page: the threads, built from the events the server keeps
// (devtools/phone_journal.py), read as Server-Sent Events from /phone/events.
// Everything a message holds is shown with textContent: never parsed as HTML.
"use strict";

const threads = new Map(); // address → {button, messages: <ol>}
const bubbles = new Map(); // message sid → its <li>, for its answer and its delivery status
const statuses = new Map(); // message sid → the last status, should it come before its bubble
const attached = []; // {url, type} of the files attached to the next text
let current = null; // the address texting now
let lastText = "";

const $ = (id) => document.getElementById(id);

function element(tag, className, text) {
  const made = document.createElement(tag);
  if (className) made.className = className;
  if (text !== undefined && text !== null) made.textContent = String(text);
  return made;
}

function channelOf(address) {
  return address.startsWith("whatsapp:") ? "whatsapp" : "sms";
}

function numberOf(address) {
  return address.replace(/^[a-z]+:/, "");
}

async function api(path, body, contentType = "application/json") {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": contentType },
    body: contentType === "application/json" ? JSON.stringify(body) : body,
  });
  if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
  return response.json();
}

function thread(address) {
  let found = threads.get(address);
  if (!found) {
    const button = element("button", "thread", address);
    button.type = "button";
    button.addEventListener("click", () => pick(address));
    $("threads").append(button);
    found = { button, messages: element("ol", "messages") };
    threads.set(address, found);
    if (current === null) pick(address);
  }
  return found;
}

function pick(address) {
  current = address;
  const picked = thread(address);
  for (const [other, { button }] of threads) {
    button.classList.toggle("current", other === address);
  }
  $("messages").replaceWith(picked.messages);
  picked.messages.id = "messages";
  $("thread-title").textContent = address;
  for (const id of ["reset", "attach", "text", "send"]) $(id).disabled = false;
  $("whatsapp").hidden = channelOf(address) !== "whatsapp";
  showConversation();
  scrollDown();
  $("text").focus();
}

function scrollDown() {
  const messages = $("messages");
  messages.scrollTop = messages.scrollHeight;
}

function mediaShown(url, type) {
  // Only what this server serves is previewed; elsewhere is a link (nothing fetched).
  const local = url.startsWith(`${location.origin}/phone/media/`);
  if (local && (type || "image/").startsWith("image/")) {
    const image = element("img", "media");
    image.src = url;
    image.alt = "attachment";
    return image;
  }
  const link = element("a", "media", url);
  if (/^https?:\/\//.test(url)) link.href = url;
  link.rel = "noreferrer";
  link.target = "_blank";
  return link;
}

function segmentsShown([count, encoding], media) {
  if (encoding === null) {
    return media.length ? "MMS: priced per message" : "not SMS: priced per message";
  }
  return `${count} SMS segment${count === 1 ? "" : "s"}, ${encoding}`;
}

function bubble(address, sid, from, className) {
  const item = element("li", `bubble ${from} ${className || ""}`.trim());
  if (sid) {
    item.dataset.sid = sid;
    bubbles.set(sid, item);
  }
  thread(address).messages.append(item);
  return item;
}

function botBubble(address, message, label) {
  const item = bubble(address, message.sid, "bot", label ? "later" : "");
  if (label) item.append(element("div", "label", label));
  item.append(element("div", "text", message.text));
  for (const url of message.media) item.append(mediaShown(url, ""));
  const meta = element("div", "meta");
  meta.append(element("span", "segments", segmentsShown(message.segments, message.media)));
  meta.append(element("span", "status", statuses.get(message.sid) || "queued"));
  item.append(meta);
  if (message.template) {
    const variables = message.variables ? ` ${JSON.stringify(message.variables)}` : "";
    item.append(element("div", "template", `template ${message.template}${variables}`));
  }
  return item;
}

const shown = {
  in(event) {
    const item = bubble(event.thread, event.sid, "you", "waiting");
    if (event.button) item.append(element("div", "label", `pressed the button “${event.button}”`));
    if (event.location) item.append(element("div", "label", `📍 ${event.location}`));
    if (event.text) item.append(element("div", "text", event.text));
    for (const { url, type } of event.media) item.append(mediaShown(url, type));
  },
  answer(event) {
    const asked = bubbles.get(event.sid);
    if (asked) {
      asked.classList.remove("waiting");
      asked.append(element("div", "log", event.line));
      for (const trace of event.errors) asked.append(element("pre", "traceback", trace));
    }
    if (!event.messages.length && event.status === 200) {
      bubble(event.thread, null, "bot", "none").append(element("div", "label", "(no reply)"));
    }
    for (const message of event.messages) botBubble(event.thread, message, "");
    if (event.thread === current) showConversation();
  },
  sent(event) {
    botBubble(event.thread, event, "sent later, from the outbox");
  },
  status(event) {
    statuses.set(event.sid, event.status);
    const status = bubbles.get(event.sid)?.querySelector(".status");
    if (!status) return;
    status.textContent = event.http === null ? event.status : `${event.status} (/status ${event.http})`;
    status.dataset.status = event.status;
  },
  error(event) {
    $("errors").append(element("li", "traceback", event.trace));
  },
  reset(event) {
    const { messages } = thread(event.thread);
    messages.replaceChildren(element("li", "note", "(the conversation was reset: forgotten)"));
    if (event.thread === current) showConversation();
  },
  "fail-next"(event) {
    $("fail-next").checked = event.on;
  },
  cleared() {
    for (const { messages } of threads.values()) messages.replaceChildren();
  },
};

async function showConversation() {
  if (current === null) return;
  const response = await fetch(`/phone/conversation?address=${encodeURIComponent(current)}`);
  const conversation = await response.json();
  $("conversation").textContent = JSON.stringify(conversation, null, 2);
}

async function send(fields) {
  const media = attached.splice(0);
  $("attached").replaceChildren();
  try {
    await api("/phone/send", {
      number: numberOf(current),
      channel: channelOf(current),
      media,
      ...fields,
    });
  } catch (error) {
    $("messages").append(element("li", "note traceback", `not sent: ${error.message}`));
  }
}

$("composer").addEventListener("submit", (submitted) => {
  submitted.preventDefault();
  const text = $("text").value;
  if (!text && !attached.length) return;
  lastText = text || lastText;
  $("text").value = "";
  send({ text });
});

$("text").addEventListener("keydown", (key) => {
  if (key.key === "ArrowUp" && !$("text").value && lastText) {
    key.preventDefault();
    $("text").value = lastText;
  }
});

$("attach").addEventListener("change", async () => {
  for (const file of $("attach").files) {
    const media = await api("/phone/media", file, file.type || "application/octet-stream");
    attached.push(media);
    $("attached").append(mediaShown(media.url, media.type));
  }
  $("attach").value = "";
  $("text").focus();
});

$("press").addEventListener("click", () => {
  const text = $("button-text").value || $("button-payload").value;
  send({ text, button: { text, payload: $("button-payload").value || text } });
});

$("share").addEventListener("click", () => {
  send({
    text: "",
    location: {
      latitude: $("latitude").value,
      longitude: $("longitude").value,
      label: $("label").value,
      address: "",
    },
  });
});

$("new-sender").addEventListener("submit", (submitted) => {
  submitted.preventDefault();
  const number = $("new-number").value.trim();
  const channel = $("new-channel").value;
  pick(channel === "sms" ? number : `${channel}:${number}`);
});

$("reset").addEventListener("click", () => api("/phone/reset", { address: current }));

$("fail-next").addEventListener("change", () => api("/phone/fail-next", { fail: $("fail-next").checked }));

// The browser reconnects by itself after a dropped connection, but gives up on an error answer
// (a 500 while replies.py cannot be imported): then listen again, from the last event seen.
let lastSeen = "";
function listen() {
  const events = new EventSource(`/phone/events${lastSeen ? `?from=${encodeURIComponent(lastSeen)}` : ""}`);
  events.addEventListener("message", (message) => {
    lastSeen = message.lastEventId || lastSeen;
    const event = JSON.parse(message.data);
    shown[event.kind]?.(event);
    scrollDown();
  });
  events.addEventListener("error", () => {
    if (events.readyState === EventSource.CLOSED) setTimeout(listen, 1000);
  });
}
listen();
if (threads.size === 0) pick($("new-number").value);
