/**
 * The console's roles (CONTRACT.md, "Console"), each with every right of the ones before it:
 * `viewer` reads; `supervisor` also reviews and proposes; `teamlead` also approves gallery
 * changes and sets thresholds; `admin` also manages accounts and deletes employees.
 */
export const ROLES = ['viewer', 'supervisor', 'teamlead', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** Whether an account of `role` may do what `needed` may. */
export function roleAllows(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}
