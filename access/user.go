package access

import (
	"context"

	"github.com/custodian-him/custodian"
)

// CreateUser adds a user with roles and password. The actor in ctx must be
// allowed to create users (an administrator, or the system from the CLI).
// Errors: EUNAUTHORIZED, EFORBIDDEN, EINVALID (name, role or password
// rules), ECONFLICT (the name exists).
func (s *Service) CreateUser(ctx context.Context, name string, roles []string, password string) (*User, error) {
	if err := requireManager(ctx, TypeUser, Create); err != nil {
		return nil, s.administered(ctx, "user-create", "User/"+name, err)
	}
	u, err := s.createUser(ctx, name, roles, password, false)
	return u, s.administered(ctx, "user-create", "User/"+name, err)
}

func (s *Service) createUser(ctx context.Context, name string, roles []string, password string, mustChange bool) (*User, error) {
	name, err := NormalizeName(name)
	if err != nil {
		return nil, err
	}
	if len(roles) == 0 {
		return nil, custodian.Errorf(custodian.EINVALID, "a user needs at least one role")
	}
	for _, r := range roles {
		if !isRole(r) || r == RoleIntegrationClient {
			return nil, custodian.Errorf(custodian.EINVALID, "%q is not a user role", r)
		}
	}
	if err := CheckPassword(name, password); err != nil {
		return nil, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return nil, err
	}
	now := s.now()
	u := &User{Name: name, Roles: roles, PasswordHash: hash, MustChange: mustChange, Created: now, Updated: now}
	if err := s.Store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// FindUsers lists every user (an administrator or the system may).
// Errors: EUNAUTHORIZED, EFORBIDDEN.
func (s *Service) FindUsers(ctx context.Context) ([]*User, error) {
	if err := requireManager(ctx, TypeUser, Search); err != nil {
		return nil, err
	}
	return s.Store.FindUsers(ctx)
}

// DisableUser stops name from signing in and ends its sessions.
// Errors: EUNAUTHORIZED, EFORBIDDEN, ENOTFOUND.
func (s *Service) DisableUser(ctx context.Context, name string) error {
	return s.administered(ctx, "user-disable", "User/"+name, s.disableUser(ctx, name))
}

func (s *Service) disableUser(ctx context.Context, name string) error {
	if err := requireManager(ctx, TypeUser, Update); err != nil {
		return err
	}
	name, err := NormalizeName(name)
	if err != nil {
		return err
	}
	yes := true
	if err := s.Store.UpdateUser(ctx, name, UserUpdate{Disabled: &yes}, s.now()); err != nil {
		return err
	}
	return s.Store.DeleteSessions(ctx, name, s.now().Add(-s.SessionIdle), s.now().Add(-s.SessionAbsolute))
}

// SetRoles replaces the roles of name and ends the user's sessions, so the
// new roles apply from their next sign-in. Errors: EUNAUTHORIZED,
// EFORBIDDEN, EINVALID (no role, or not a user role), ENOTFOUND.
func (s *Service) SetRoles(ctx context.Context, name string, roles []string) error {
	return s.administered(ctx, "user-set-roles", "User/"+name, s.setRoles(ctx, name, roles))
}

func (s *Service) setRoles(ctx context.Context, name string, roles []string) error {
	if err := requireManager(ctx, TypeUser, Update); err != nil {
		return err
	}
	name, err := NormalizeName(name)
	if err != nil {
		return err
	}
	if len(roles) == 0 {
		return custodian.Errorf(custodian.EINVALID, "a user needs at least one role")
	}
	for _, r := range roles {
		if !isRole(r) || r == RoleIntegrationClient {
			return custodian.Errorf(custodian.EINVALID, "%q is not a user role", r)
		}
	}
	if err := s.Store.UpdateUser(ctx, name, UserUpdate{Roles: roles}, s.now()); err != nil {
		return err
	}
	return s.Store.DeleteSessions(ctx, name, s.now().Add(-s.SessionIdle), s.now().Add(-s.SessionAbsolute))
}

// EnableUser lets a disabled user sign in again (and clears any lock).
// Errors: EUNAUTHORIZED, EFORBIDDEN, ENOTFOUND.
func (s *Service) EnableUser(ctx context.Context, name string) error {
	return s.administered(ctx, "user-enable", "User/"+name, s.enableUser(ctx, name))
}

func (s *Service) enableUser(ctx context.Context, name string) error {
	if err := requireManager(ctx, TypeUser, Update); err != nil {
		return err
	}
	name, err := NormalizeName(name)
	if err != nil {
		return err
	}
	no := false
	return s.Store.UpdateUser(ctx, name, UserUpdate{Disabled: &no, Unlock: true}, s.now())
}

// SetPassword gives name a new password chosen by an administrator (or at
// the command line): it clears the must-change flag and any lock and ends
// the user's sessions. Errors: EUNAUTHORIZED, EFORBIDDEN, EINVALID, ENOTFOUND.
func (s *Service) SetPassword(ctx context.Context, name, password string) error {
	if err := requireManager(ctx, TypeUser, Update); err != nil {
		return s.administered(ctx, "user-set-password", "User/"+name, err)
	}
	return s.administered(ctx, "user-set-password", "User/"+name, s.setPassword(ctx, name, password))
}

func (s *Service) setPassword(ctx context.Context, name, password string) error {
	name, err := NormalizeName(name)
	if err != nil {
		return err
	}
	if err := CheckPassword(name, password); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	no := false
	if err := s.Store.UpdateUser(ctx, name, UserUpdate{PasswordHash: &hash, MustChange: &no, Unlock: true}, s.now()); err != nil {
		return err
	}
	return s.Store.DeleteSessions(ctx, name, s.now().Add(-s.SessionIdle), s.now().Add(-s.SessionAbsolute))
}

// ChangePassword lets the signed-in user name replace their own password,
// given the current one. Their other sessions end; the caller should
// start a new one. Errors: EUNAUTHORIZED (wrong current password),
// EINVALID (password rules, or the same password again).
func (s *Service) ChangePassword(ctx context.Context, name, current, next string) error {
	u, err := s.Store.FindUserByName(ctx, name)
	if err != nil || u.Disabled || !VerifyPassword(u.PasswordHash, current) {
		return custodian.Errorf(custodian.EUNAUTHORIZED, "The current password is wrong.")
	}
	if current == next {
		return custodian.Errorf(custodian.EINVALID, "The new password must differ from the current one.")
	}
	return s.setPassword(ctx, name, next)
}

// AdminPasswordEnv names the environment variable that, when set, gives the
// first-start administrator's password instead of a random one.
const AdminPasswordEnv = "CUSTODIAN_ADMIN_PASSWORD"

// Bootstrap creates the first administrator, "admin", when there are no
// users at all. Its password is password if not empty (for example from
// AdminPasswordEnv), else a random one; either way it is flagged
// must-change, so the first sign-in asks for a new one (or an operator runs
// `custodian user passwd admin --password-stdin`). It returns the password
// to show once, and created=false when users already exist.
func (s *Service) Bootstrap(ctx context.Context, password string) (pw string, created bool, err error) {
	n, err := s.Store.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", false, err
	}
	if password == "" {
		password = GeneratePassword()
	}
	if _, err := s.createUser(ctx, "admin", []string{RoleAdministrator}, password, true); err != nil {
		if custodian.ErrorCode(err) == custodian.ECONFLICT {
			return "", false, nil // another node made it first
		}
		return "", false, err
	}
	return password, true, nil
}
