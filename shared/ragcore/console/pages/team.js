// Team (an account's, not an API key's: /tenants answers logged-in users): the members of your team, invitations
// by e-mail (seen by the invited user here, under "Teams you belong to": nothing is mailed), and the teams you were
// invited to or joined.
import { auth, del, get, patch, post } from "../api.js";
import { field, fill, guard, h, title, when } from "../ui.js";

export async function teamPage(main) {
  fill(main, title("Team"));
  const who = auth.get();
  if (!who || who.kind !== "user") {
    main.append(h("p", {}, "Teams belong to accounts: log out and log in with an e-mail and password (or create an account) to invite members."));
    return;
  }
  const me = await get("/users/me");
  const members = h("div");
  const teams = h("div");
  const email = h("input", { type: "email", required: true, autocomplete: "off" });

  async function loadMembers() {
    const rows = await get(`/tenants/${me.id}/users`, { page: 1, page_size: 100 });
    fill(members, rows.length ? h("div", { class: "table-wrap" }, h("table", { "aria-label": "Members" },
      h("thead", {}, h("tr", {}, ["Member", "E-mail", "Status", "Since"].map((t) => h("th", { scope: "col" }, t)),
        h("th", { scope: "col" }, h("span", { class: "muted" }, "Actions")))),
      h("tbody", {}, rows.map((u) => h("tr", { "data-member": u.user_id },
        h("td", {}, u.nickname || ""), h("td", {}, u.email), h("td", {}, u.role === "invite" ? "invited" : "member"),
        h("td", {}, when(u.update_time || u.create_time)),
        h("td", {}, h("button", {
          type: "button", class: "danger", "aria-label": `Remove ${u.email}`,
          onclick: async () => {
            if (!confirm(`Remove ${u.email} from your team?`)) return;
            if (await guard(() => del(`/tenants/${me.id}/users`, { user_id: u.user_id }), "Removed") !== undefined) loadMembers();
          },
        }, u.role === "invite" ? "Withdraw" : "Remove"))))))) : h("p", { class: "muted" }, "No members yet."));
  }

  async function loadTeams() {
    const rows = (await get("/tenants", { page: 1, page_size: 100 })).filter((t) => t.tenant_id !== me.id);
    fill(teams, rows.length ? h("div", { class: "table-wrap" }, h("table", { "aria-label": "Teams you belong to" },
      h("thead", {}, h("tr", {}, ["Team", "Owner", "Status"].map((t) => h("th", { scope: "col" }, t)),
        h("th", { scope: "col" }, h("span", { class: "muted" }, "Actions")))),
      h("tbody", {}, rows.map((t) => h("tr", { "data-team": t.tenant_id },
        h("td", {}, t.nickname || t.name || t.tenant_id), h("td", {}, t.email || ""), h("td", {}, t.role === "invite" ? "invited" : "member"),
        h("td", { class: "row" }, t.role === "invite" ? h("button", {
          type: "button", class: "primary", "aria-label": `Join ${t.nickname || t.email}`,
          onclick: async () => { if (await guard(() => patch(`/tenants/${t.tenant_id}`), "Joined") !== undefined) loadTeams(); },
        }, "Join") : null, h("button", {
          type: "button", class: "danger", "aria-label": `Leave ${t.nickname || t.email}`,
          onclick: async () => {
            if (!confirm("Leave this team?")) return;
            if (await guard(() => del(`/tenants/${t.tenant_id}/users`, { user_id: me.id }), "Left") !== undefined) loadTeams();
          },
        }, t.role === "invite" ? "Decline" : "Leave"))))))) : h("p", { class: "muted" }, "No invitations."));
  }

  async function invite(ev) {
    ev.preventDefault();
    if (await guard(() => post(`/tenants/${me.id}/users`, { email: email.value.trim() }), `Invited ${email.value.trim()}`)) {
      email.value = "";
      loadMembers();
    }
  }

  main.append(
    h("p", { class: "muted" }, "Members read and search the datasets you set to permission “team”, and use them in their chats and search apps."),
    h("form", { class: "panel row", onsubmit: invite, "aria-label": "Invite a member" },
      h("div", { class: "grow" }, field("E-mail of an account to invite", email)), h("button", { class: "primary", type: "submit" }, "Invite")),
    h("h2", {}, "Your team"), members, h("h2", {}, "Teams you belong to"), teams);
  await Promise.all([loadMembers(), loadTeams()]);
}
