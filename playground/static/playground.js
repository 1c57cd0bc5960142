// The playground page: one person plays every player against the real bot.
//
// Everything the bot sends is player-controlled text in places (names, evidence, reasons), so
// nothing from the API is ever put in the page as HTML: every string goes in through
// textContent / createTextNode, and links only for http(s) URLs.
"use strict";

const page = {
  current: "alice",
  state: null,
  generation: 0,
  seen: {}, // player name -> how many DM messages were on screen when last viewed
  command: null, // the chosen command path's description
  modal: null, // {player, interaction}
  refreshing: false,
  again: false,
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

async function api(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  let data = null;
  try {
    data = await response.json();
  } catch (error) {
    data = null;
  }
  if (!response.ok) {
    throw new Error((data && data.error) || `${response.status} ${response.statusText}`);
  }
  return data;
}

const player = (name) => `/api/players/${encodeURIComponent(name)}`;

// ---- Discord's markdown, as text nodes -------------------------------------------------------

const TOKEN = new RegExp(
  [
    "\\\\([^\\w\\s])", // 1 an escaped character: shown as itself
    "\\*\\*(.+?)\\*\\*", // 2 bold
    "__(.+?)__", // 3 underline
    "~~(.+?)~~", // 4 strike
    "`([^`]+)`", // 5 code
    "<t:(-?\\d+)(?::([tTdDfFR]))?>", // 6, 7 timestamp
    "<@!?(\\d+)>", // 8 mention
    "\\[([^\\]]+)\\]\\((https?://[^)\\s]+)\\)", // 9, 10 masked link
    "\\*([^*\\s](?:[^*]*[^*\\s])?)\\*", // 11 italic
    "(?<![\\w/])_([^_\\s](?:[^_]*[^_\\s])?)_(?!\\w)", // 12 italic
  ].join("|"),
  "g",
);

function timestampText(seconds, style) {
  const date = new Date(Number(seconds) * 1000);
  if (style === "R") {
    const diff = Math.round((date.getTime() - Date.now()) / 1000);
    const format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
    const units = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
    for (const [unit, size] of units) {
      if (Math.abs(diff) >= size || unit === "second") {
        return format.format(Math.round(diff / size), unit);
      }
    }
  }
  const options = {
    t: { timeStyle: "short" }, T: { timeStyle: "medium" }, d: { dateStyle: "short" },
    D: { dateStyle: "long" }, F: { dateStyle: "full", timeStyle: "short" },
  }[style] || { dateStyle: "long", timeStyle: "short" };
  return new Intl.DateTimeFormat(undefined, options).format(date);
}

function inline(parent, text) {
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    if (match.index > last) parent.append(document.createTextNode(text.slice(last, match.index)));
    last = match.index + match[0].length;
    if (match[1] !== undefined) parent.append(document.createTextNode(match[1]));
    else if (match[2] !== undefined) inline(parent.appendChild(el("strong")), match[2]);
    else if (match[3] !== undefined) inline(parent.appendChild(el("u")), match[3]);
    else if (match[4] !== undefined) inline(parent.appendChild(el("s")), match[4]);
    else if (match[5] !== undefined) parent.append(el("code", { text: match[5] }));
    else if (match[6] !== undefined) {
      const when = new Date(Number(match[6]) * 1000);
      parent.append(el("time", {
        class: "timestamp", datetime: when.toISOString(), title: when.toString(),
        text: timestampText(match[6], match[7]),
        dataset: match[7] === "R" ? { relative: match[6] } : undefined,
      }));
    } else if (match[8] !== undefined) {
      const name = (page.state && page.state.users[match[8]]) || "unknown-user";
      parent.append(el("span", { class: "mention", text: `@${name}` }));
    } else if (match[9] !== undefined) {
      parent.append(el("a", {
        href: match[10], text: match[9], target: "_blank", rel: "nofollow noopener noreferrer",
      }));
    } else if (match[11] !== undefined) inline(parent.appendChild(el("em")), match[11]);
    else if (match[12] !== undefined) inline(parent.appendChild(el("em")), match[12]);
  }
  if (last < text.length) parent.append(document.createTextNode(text.slice(last)));
}

function markdown(text, className) {
  const box = el("div", { class: className || "markdown" });
  const lines = String(text || "").split("\n");
  lines.forEach((line, index) => {
    const quote = line.startsWith("> ");
    const heading = /^(#{1,3}) (.*)$/.exec(line);
    const target = quote ? box.appendChild(el("span", { class: "quote" }))
      : heading ? box.appendChild(el("strong", { class: `h${heading[1].length}` })) : box;
    inline(target, quote ? line.slice(2) : heading ? heading[2] : line);
    if (index < lines.length - 1) box.append(el("br"));
  });
  return box;
}

// ---- messages ------------------------------------------------------------------------------

function colour(value) {
  if (typeof value !== "number") return null;
  return `#${value.toString(16).padStart(6, "0")}`;
}

function renderEmbed(embed) {
  const box = el("div", { class: "embed" });
  const stripe = colour(embed.color);
  if (stripe) box.style.borderLeftColor = stripe;
  if (embed.author && embed.author.name) {
    box.append(el("div", { class: "embed-author", text: embed.author.name }));
  }
  if (embed.title) {
    const title = el("div", { class: "embed-title" });
    if (embed.url && /^https?:\/\//.test(embed.url)) {
      title.append(el("a", {
        href: embed.url, text: embed.title, target: "_blank", rel: "nofollow noopener noreferrer",
      }));
    } else {
      inline(title, embed.title);
    }
    box.append(title);
  }
  if (embed.description) box.append(markdown(embed.description, "embed-description"));
  if (embed.fields && embed.fields.length) {
    const fields = el("div", { class: "embed-fields" });
    for (const field of embed.fields) {
      fields.append(el("div", { class: field.inline ? "embed-field inline" : "embed-field" },
        markdown(field.name, "embed-field-name"), markdown(field.value, "embed-field-value")));
    }
    box.append(fields);
  }
  const footer = [];
  if (embed.footer && embed.footer.text) footer.push(embed.footer.text);
  if (embed.timestamp) footer.push(new Date(embed.timestamp).toLocaleString());
  if (footer.length) box.append(el("div", { class: "embed-footer", text: footer.join(" • ") }));
  return box;
}

const BUTTON_STYLES = { 1: "primary", 2: "secondary", 3: "success", 4: "danger", 5: "link" };

function renderComponent(message, component) {
  if (component.type === 2) {
    const style = BUTTON_STYLES[component.style] || "secondary";
    const label = `${component.emoji && component.emoji.name ? `${component.emoji.name} ` : ""}${
      component.label || ""}`;
    if (component.style === 5) {
      const safe = /^https?:\/\//.test(component.url || "") ? component.url : "#";
      return el("a", {
        class: "component button link", href: safe, target: "_blank",
        rel: "nofollow noopener noreferrer", text: `${label} ↗`,
      });
    }
    return el("button", {
      type: "button", class: `component button ${style}`, disabled: !!component.disabled,
      dataset: { customId: component.custom_id },
      text: label,
      onclick: () => act("click", { message: message.id, custom_id: component.custom_id }),
    });
  }
  if (component.type === 3) {
    const multiple = (component.max_values || 1) > 1;
    const select = el("select", {
      class: "component select", disabled: !!component.disabled, multiple,
      dataset: { customId: component.custom_id }, "aria-label": component.placeholder || "select",
    });
    if (!multiple) {
      select.append(el("option", { value: "", text: component.placeholder || "Choose…",
        disabled: true, selected: !component.options.some((o) => o.default) }));
    }
    for (const option of component.options || []) {
      select.append(el("option", {
        value: option.value, selected: !!option.default,
        text: option.description ? `${option.label} — ${option.description}` : option.label,
      }));
    }
    const send = () => act("select", {
      message: message.id, custom_id: component.custom_id,
      values: Array.from(select.selectedOptions).map((o) => o.value).filter((v) => v !== ""),
    });
    if (!multiple) {
      select.addEventListener("change", send);
      return select;
    }
    return el("span", { class: "multi" }, select, el("button", {
      type: "button", class: "component button secondary", text: "Choose",
      disabled: !!component.disabled, onclick: send,
    }));
  }
  return el("span", { class: "muted", text: `(component type ${component.type})` });
}

function renderMessage(message) {
  const item = el("li", {
    class: `message${message.ephemeral ? " ephemeral" : ""}${message.deleted ? " deleted" : ""}`,
    dataset: { id: message.id },
  });
  if (message.command) {
    item.append(el("div", { class: "used", text: `${message.user} used /${message.command}` }));
  }
  const when = new Date(message.timestamp);
  item.append(el("div", { class: "meta" },
    el("span", { class: "author", text: "LadderBot" }), el("span", { class: "bot-tag", text: "APP" }),
    el("time", { datetime: when.toISOString(), text: when.toLocaleTimeString() }),
    message.edited ? el("span", { class: "muted", text: "(edited)" }) : null));
  if (message.deleted) {
    item.append(el("div", { class: "muted", text: "This message was deleted." }));
    return item;
  }
  if (message.loading) item.append(el("div", { class: "muted", text: "LadderBot is thinking…" }));
  if (message.content) item.append(markdown(message.content));
  for (const embed of message.embeds || []) item.append(renderEmbed(embed));
  for (const row of message.components || []) {
    const line = el("div", { class: "row" });
    for (const component of row.components || []) line.append(renderComponent(message, component));
    item.append(line);
  }
  if (message.ephemeral) {
    item.append(el("div", { class: "ephemeral-note", text: "Only you can see this" }));
  }
  return item;
}

async function refreshMessages() {
  const name = page.current;
  const data = await api("GET", `${player(name)}/messages`);
  if (name !== page.current) return;
  const list = $("messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  // Only messages that changed are drawn again: a choice half made in another message's
  // select (or its focus) survives the bot's updates to the rest of the DM.
  const drawn = new Map();
  for (const node of list.children) {
    if (node.dataset.id) drawn.set(node.dataset.id, node);
  }
  const nodes = data.messages.map((message) => {
    const signature = JSON.stringify(message);
    const old = drawn.get(message.id);
    if (old && old.dataset.signature === signature) return old;
    const node = renderMessage(message);
    node.dataset.signature = signature;
    return node;
  });
  if (!nodes.length) {
    nodes.push(el("li", { class: "empty muted",
      text: "No messages yet. Try /termsofservice, then /setup and /queue." }));
  }
  nodes.forEach((node, index) => {
    const at = list.children[index];
    if (at !== node) list.insertBefore(node, at || null);
  });
  while (list.children.length > nodes.length) list.lastElementChild.remove();
  // The title names whose DM this is once it shows that DM, not before: whoever reads it (or a
  // test waiting on it) then acts on that player's messages.
  $("dm-title").textContent = `DM with LadderBot — you are ${name}`;
  page.seen[name] = data.messages.length;
  if (atBottom) list.scrollTop = list.scrollHeight;
}

// ---- players, rules, links ---------------------------------------------------------------------

function renderState(state) {
  page.state = state;
  // Commands typed before the bot registered them (a reset restarts it) are suggested now.
  if (!page.command && $("command-input").value) suggest();
  $("web-link").href = state.web_url;
  $("timers").textContent = `Matchmaking every ${state.timers.wave_seconds} s; ` +
    `${state.timers.confirm_seconds} s to confirm a match. Database: ${state.database}`;
  // The buttons are updated in place, not drawn anew at each refresh: a click is a press and a
  // release on the same element, and the events of a busy ladder refresh the list between them.
  const list = $("player-list");
  const drawn = new Map();
  for (const item of list.children) drawn.set(item.dataset.player, item);
  const items = state.players.map((p) => {
    const current = p.name === page.current;
    const unread = current ? 0 : Math.max(0, p.messages - (page.seen[p.name] || 0));
    let item = drawn.get(p.name);
    if (!item) {
      item = el("li", { dataset: { player: p.name } },
        el("button", { type: "button", dataset: { player: p.name },
                       onclick: () => switchTo(p.name) }));
    }
    const button = item.firstElementChild;
    button.className = `player${current ? " current" : ""}`;
    button.setAttribute("aria-pressed", current ? "true" : "false");
    const signature = JSON.stringify([p.admin, p.simulated, unread]);
    if (button.dataset.signature !== signature) {
      button.dataset.signature = signature;
      button.replaceChildren(...[
        el("span", { class: "name", text: p.name }),
        p.admin ? el("span", { class: "badge admin", text: "admin" }) : null,
        p.simulated ? el("span", { class: "badge sim", text: "simulated" }) : null,
        unread ? el("span", { class: "badge unread", text: String(unread) }) : null,
      ].filter(Boolean));
    }
    return item;
  });
  items.forEach((item, index) => {
    const at = list.children[index];
    if (at !== item) list.insertBefore(item, at || null);
  });
  while (list.children.length > items.length) list.lastElementChild.remove();
  const violations = state.violations;
  $("violations").hidden = violations.length === 0;
  $("violation-list").replaceChildren(...violations.map((v) => el("li", {},
    el("strong", { class: "rule", text: v.rule }), " ", el("span", { text: v.detail }))));
  if (page.command) {
    page.command = state.commands.find((c) => c.path === page.command.path) || null;
  }
}

async function refresh() {
  if (page.refreshing) {
    page.again = true;
    return;
  }
  page.refreshing = true;
  try {
    do {
      page.again = false;
      const state = await api("GET", "/api/state");
      if (state.generation !== page.generation) {
        page.generation = state.generation;
        page.seen = {};
        if (!state.players.some((p) => p.name === page.current)) page.current = "alice";
      }
      renderState(state);
      await refreshMessages();
      renderState(page.state); // unread marks, now that this DM was seen
    } while (page.again);
  } catch (error) {
    showError(error.message);
  } finally {
    page.refreshing = false;
  }
  // A switch or an event that came while a failed pass ran still gets its pass.
  if (page.again) refresh();
}

function switchTo(name) {
  page.current = name;
  closeModal();
  refresh();
}

function showError(text) {
  const box = $("command-error");
  box.textContent = text || "";
  box.hidden = !text;
}

// ---- acting as the current player --------------------------------------------------------------

async function act(kind, body) {
  showError("");
  try {
    const result = await api("POST", `${player(page.current)}/${kind}`, body);
    if (result && result.modal) openModal(page.current, result);
    else if (result && result.answered === false) {
      showError("The bot did not answer within Discord's 3 seconds.");
    }
    refresh();
    return result;
  } catch (error) {
    showError(error.message);
    return null;
  }
}

function openModal(name, result) {
  const modal = result.modal;
  page.modal = { player: name, interaction: result.interaction };
  $("modal-title").textContent = modal.title;
  $("modal-error").hidden = true;
  $("modal-inputs").replaceChildren(...modal.inputs.map((input) => {
    const field = input.style === "paragraph"
      ? el("textarea", { rows: 3 })
      : el("input", { type: "text" });
    field.name = input.custom_id;
    field.value = input.value;
    field.placeholder = input.placeholder;
    field.required = !!input.required;
    if (input.max_length) field.maxLength = input.max_length;
    if (input.min_length) field.minLength = input.min_length;
    return el("label", { class: "modal-field" },
      el("span", { text: `${input.label}${input.required ? " *" : ""}` }), field);
  }));
  const dialog = $("modal");
  if (!dialog.open) dialog.showModal();
}

function closeModal() {
  page.modal = null;
  const dialog = $("modal");
  if (dialog.open) dialog.close();
}

async function submitModal(event) {
  event.preventDefault();
  if (!page.modal) return;
  const values = {};
  for (const field of $("modal-inputs").querySelectorAll("input, textarea")) {
    values[field.name] = field.value;
  }
  const { player: name, interaction } = page.modal;
  try {
    const result = await api("POST", `${player(name)}/modal`, { interaction, values });
    closeModal();
    if (result && result.modal) openModal(name, result);
    refresh();
  } catch (error) {
    $("modal-error").textContent = error.message;
    $("modal-error").hidden = false;
  }
}

// ---- the command box -----------------------------------------------------------------------

function suggest() {
  const text = $("command-input").value.replace(/^\//, "").trim().toLowerCase();
  const box = $("command-suggestions");
  const commands = (page.state ? page.state.commands : []).filter((c) => c.path.startsWith(text));
  if (page.command && `${page.command.path}` === text) {
    box.hidden = true;
    return;
  }
  box.replaceChildren(...commands.slice(0, 12).map((c) => el("li", {},
    el("button", { type: "button", class: "suggestion", dataset: { command: c.path },
      onclick: () => chooseCommand(c) },
    el("strong", { text: `/${c.path}` }), " ", el("span", { class: "muted", text: c.description })))));
  box.hidden = commands.length === 0;
}

function chooseCommand(command) {
  page.command = command;
  $("command-input").value = `/${command.path}`;
  $("command-suggestions").hidden = true;
  const box = $("command-options");
  box.replaceChildren(...command.options.map(optionField));
  const first = box.querySelector("input, select");
  (first || $("command-send")).focus();
}

function optionField(option) {
  let input;
  if (option.choices.length) {
    input = el("select", {},
      el("option", { value: "", text: option.required ? "Choose…" : "(none)" }),
      ...option.choices.map((c) => el("option", { value: String(c.value), text: c.name })));
  } else if (option.type === "boolean") {
    input = el("select", {}, el("option", { value: "", text: "(none)" }),
      el("option", { value: "true", text: "True" }), el("option", { value: "false", text: "False" }));
  } else if (option.type === "user") {
    input = el("select", {}, el("option", { value: "", text: "Choose a player…" }),
      ...page.state.players.map((p) => el("option", { value: p.name, text: p.name })));
  } else if (option.type === "integer" || option.type === "number") {
    input = el("input", { type: "number", step: option.type === "integer" ? "1" : "any",
      min: option.min_value, max: option.max_value });
  } else {
    input = el("input", { type: "text", maxlength: option.max_length });
  }
  input.name = option.name;
  input.dataset.option = option.name;
  input.required = option.required;
  const field = el("label", { class: "option" },
    el("span", { class: "option-name", text: `${option.name}${option.required ? " *" : ""}` }),
    input, el("span", { class: "muted small", text: option.description }));
  if (option.autocomplete) {
    const choices = el("ul", { class: "autocomplete", hidden: true });
    field.append(choices);
    let timer = null;
    input.addEventListener("input", () => {
      delete input.dataset.value;
      clearTimeout(timer);
      timer = setTimeout(() => autocomplete(option, input, choices), 150);
    });
    input.addEventListener("focus", () => autocomplete(option, input, choices));
  }
  return field;
}

function optionValues() {
  const values = {};
  for (const input of $("command-options").querySelectorAll("[data-option]")) {
    const value = input.dataset.value !== undefined ? input.dataset.value : input.value;
    if (value !== "") values[input.dataset.option] = value;
  }
  return values;
}

async function autocomplete(option, input, list) {
  if (!page.command) return;
  const others = optionValues();
  delete others[option.name];
  const typed = input.value;
  try {
    const data = await api("POST", `${player(page.current)}/autocomplete`, {
      command: page.command.path, focused: option.name, value: typed, options: others,
    });
    if (input.value !== typed) return; // typed on meanwhile: a newer answer is coming
    list.replaceChildren(...data.choices.map((c) => el("li", {},
      el("button", { type: "button", class: "choice", text: c.name, onclick: () => {
        input.value = c.name;
        input.dataset.value = String(c.value);
        list.hidden = true;
      } }))));
    list.hidden = data.choices.length === 0;
  } catch (error) {
    showError(error.message);
  }
}

async function sendCommand(event) {
  event.preventDefault();
  const typed = $("command-input").value.replace(/^\//, "").trim().replace(/\s+/g, " ");
  const command = (page.state.commands || []).find((c) => c.path === typed.toLowerCase());
  if (!command) {
    showError(typed ? `/${typed} is not a command here.` : "Type a command.");
    return;
  }
  if (!page.command || page.command.path !== command.path) {
    chooseCommand(command);
    if (command.options.some((o) => o.required)) return; // fill them in first
  }
  const result = await act("command", { command: command.path, options: optionValues() });
  if (result) {
    page.command = null;
    $("command-input").value = "";
    $("command-options").replaceChildren();
  }
}

// ---- start -------------------------------------------------------------------------------

function tick() {
  // "in 44 seconds" counts down, as in Discord.
  for (const node of document.querySelectorAll("time[data-relative]")) {
    node.textContent = timestampText(node.dataset.relative, "R");
  }
}

function listen() {
  const source = new EventSource("/api/events");
  source.addEventListener("change", () => refresh());
  source.addEventListener("open", () => refresh());
}

document.addEventListener("DOMContentLoaded", () => {
  $("command-form").addEventListener("submit", sendCommand);
  $("command-input").addEventListener("input", () => {
    if (page.command && $("command-input").value !== `/${page.command.path}`) {
      page.command = null;
      $("command-options").replaceChildren();
    }
    suggest();
  });
  $("command-input").addEventListener("focus", suggest);
  $("modal-form").addEventListener("submit", submitModal);
  $("modal-cancel").addEventListener("click", closeModal);
  $("modal").addEventListener("cancel", () => { page.modal = null; });
  $("add-player").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const added = await api("POST", "/api/players", { name: $("new-player").value });
      $("new-player").value = "";
      switchTo(added.name);
    } catch (error) {
      showError(error.message);
    }
  });
  $("add-simulated").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("POST", "/api/simulated", { count: Number($("sim-count").value) });
      refresh();
    } catch (error) {
      showError(error.message);
    }
  });
  $("reset").addEventListener("click", async () => {
    const button = $("reset");
    if (button.dataset.armed !== "yes") {
      button.dataset.armed = "yes";
      button.textContent = "Click again: delete everything";
      setTimeout(() => { button.dataset.armed = ""; button.textContent = "Reset playground"; }, 4000);
      return;
    }
    button.dataset.armed = "";
    button.disabled = true;
    button.textContent = "Resetting…";
    try {
      await api("POST", "/api/reset", {});
    } catch (error) {
      showError(error.message);
    } finally {
      button.disabled = false;
      button.textContent = "Reset playground";
      refresh();
    }
  });
  refresh();
  listen();
  setInterval(tick, 1000);
});
