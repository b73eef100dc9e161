import { http } from './client'

/** GET /auth/me: who is signed in, with roles, permission codes and site scope. */
export interface Me {
  id: number
  username: string
  display_name: string
  roles: string[]
  permissions: string[]
  scope_all: boolean
  site_ids: string[]
  must_change_password: boolean
}

export interface LoginResult {
  access_token: string
  token_type: string
  expires_in: number
  must_change_password: boolean
  user: Me
}

export const authApi = {
  /** Errors are left to the login form (`silent`): it shows them beside the fields. */
  login: (username: string, password: string) =>
    http.post<LoginResult>('/auth/login', { username, password }, { anonymous: true, silent: true }),
  me: () => http.get<Me>('/auth/me'),
  logout: () => http.post<void>('/auth/logout', undefined, { silent: true }),
  changePassword: (oldPassword: string, newPassword: string) =>
    http.post<void>('/auth/password', { old_password: oldPassword, new_password: newPassword },
      { silent: true }),
}
