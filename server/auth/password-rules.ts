/** Password lengths the product accepts (better-auth's minimum is set to the same in auth.ts). */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;
