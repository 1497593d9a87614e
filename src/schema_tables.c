/*
 * schema_tables.c: the attribute tables of RFC 7643 sections 4 and 8.7,
 * as data.  schema*.c hold the functions over them.
 */
#include "config.h"

#include "schema.h"
#include "schema_tables.h"

#define NSUB(a)	(sizeof(a) / sizeof((a)[0]))

static const char *const type_email[] = { "work", "home", "other", NULL };
static const char *const type_phone[] = { "work", "home", "mobile", "fax",
    "pager", "other", NULL };
static const char *const type_ims[] = { "aim", "gtalk", "icq", "xmpp", "msn",
    "skype", "qq", "yahoo", NULL };
static const char *const type_photo[] = { "photo", "thumbnail", NULL };
static const char *const type_address[] = { "work", "home", "other", NULL };
static const char *const type_groupref[] = { "direct", "indirect", NULL };
static const char *const type_member[] = { "User", "Group", NULL };
static const char *const ref_external[] = { "external", NULL };
static const char *const ref_usergroup[] = { "User", "Group", NULL };
static const char *const ref_group[] = { "Group", NULL };
static const char *const ref_user[] = { "User", NULL };

/* A readWrite, default-returned, non-unique string (the common case). */
#define RW_STRING(n, d) \
	{ .name = n, .type = AT_STRING, .description = d }

/* Sub-attributes shared by emails, phoneNumbers, ims, photos, entitlements,
 * roles. */
#define MV_DISPLAY \
	{ .name = "display", .type = AT_STRING, \
	  .description = "A human-readable name, primarily used for display " \
	    "purposes." }
#define MV_PRIMARY \
	{ .name = "primary", .type = AT_BOOLEAN, \
	  .description = "Whether this is the primary or preferred value." }

static const struct schema_attr name_sub[] = {
	RW_STRING("formatted", "The full name, formatted for display."),
	RW_STRING("familyName", "The family name of the User."),
	RW_STRING("givenName", "The given name of the User."),
	RW_STRING("middleName", "The middle name(s) of the User."),
	RW_STRING("honorificPrefix", "The honorific prefix(es) of the User."),
	RW_STRING("honorificSuffix", "The honorific suffix(es) of the User."),
};

static const struct schema_attr emails_sub[] = {
	RW_STRING("value", "Email address for the User."),
	MV_DISPLAY,
	{ .name = "type", .type = AT_STRING, .canonical = type_email,
	  .description = "A label indicating the attribute's function." },
	MV_PRIMARY,
};

static const struct schema_attr phones_sub[] = {
	RW_STRING("value", "Phone number of the User."),
	MV_DISPLAY,
	{ .name = "type", .type = AT_STRING, .canonical = type_phone,
	  .description = "A label indicating the attribute's function." },
	MV_PRIMARY,
};

static const struct schema_attr ims_sub[] = {
	RW_STRING("value", "Instant messaging address for the User."),
	MV_DISPLAY,
	{ .name = "type", .type = AT_STRING, .canonical = type_ims,
	  .description = "A label indicating the attribute's function." },
	MV_PRIMARY,
};

static const struct schema_attr photos_sub[] = {
	{ .name = "value", .type = AT_REFERENCE, .case_exact = true,
	  .ref_types = ref_external,
	  .description = "URL of a photo of the User." },
	MV_DISPLAY,
	{ .name = "type", .type = AT_STRING, .canonical = type_photo,
	  .description = "A label indicating the attribute's function." },
	MV_PRIMARY,
};

static const struct schema_attr addresses_sub[] = {
	RW_STRING("formatted",
	    "The full mailing address, formatted for display."),
	RW_STRING("streetAddress", "The full street address component."),
	RW_STRING("locality", "The city or locality component."),
	RW_STRING("region", "The state or region component."),
	RW_STRING("postalCode", "The zip code or postal code component."),
	RW_STRING("country", "The country name component."),
	{ .name = "type", .type = AT_STRING, .canonical = type_address,
	  .description = "A label indicating the attribute's function." },
	MV_PRIMARY,
};

static const struct schema_attr groups_sub[] = {
	{ .name = "value", .type = AT_STRING, .mutability = MUT_READONLY,
	  .description = "The identifier of the User's group." },
	{ .name = "$ref", .type = AT_REFERENCE, .mutability = MUT_READONLY,
	  .ref_types = ref_group,
	  .description = "The URI of the corresponding Group resource." },
	{ .name = "display", .type = AT_STRING, .mutability = MUT_READONLY,
	  .description = "A human-readable name for the group." },
	{ .name = "type", .type = AT_STRING, .mutability = MUT_READONLY,
	  .canonical = type_groupref,
	  .description = "Membership: direct or indirect." },
};

static const struct schema_attr entitlements_sub[] = {
	RW_STRING("value", "The value of an entitlement."),
	MV_DISPLAY,
	RW_STRING("type", "A label indicating the attribute's function."),
	MV_PRIMARY,
};

static const struct schema_attr roles_sub[] = {
	RW_STRING("value", "The value of a role."),
	MV_DISPLAY,
	RW_STRING("type", "A label indicating the attribute's function."),
	MV_PRIMARY,
};

static const struct schema_attr x509_sub[] = {
	{ .name = "value", .type = AT_BINARY, .case_exact = true,
	  .description = "The value of an X.509 certificate." },
	MV_DISPLAY,
	RW_STRING("type", "A label indicating the attribute's function."),
	MV_PRIMARY,
};

static const struct schema_attr user_attrs[] = {
	{ .name = "userName", .type = AT_STRING, .required = true,
	  .uniqueness = UNIQ_SERVER, .username = true,
	  .description = "Unique identifier for the User, typically used by "
	    "the user to directly authenticate to the service provider." },
	{ .name = "name", .type = AT_COMPLEX, .sub = name_sub,
	  .nsub = NSUB(name_sub),
	  .description = "The components of the user's real name." },
	RW_STRING("displayName",
	    "The name of the User, suitable for display to end-users."),
	RW_STRING("nickName",
	    "The casual way to address the user in real life."),
	{ .name = "profileUrl", .type = AT_REFERENCE, .ref_types = ref_external,
	  .description = "A fully qualified URL pointing to a page "
	    "representing the User's online profile." },
	RW_STRING("title", "The user's title, such as \"Vice President\"."),
	RW_STRING("userType",
	    "Used to identify the relationship between the organization and "
	    "the user."),
	RW_STRING("preferredLanguage",
	    "Indicates the User's preferred written or spoken language."),
	RW_STRING("locale",
	    "Used to indicate the User's default location for purposes of "
	    "localizing items."),
	RW_STRING("timezone",
	    "The User's time zone in the 'Olson' time zone database format."),
	{ .name = "active", .type = AT_BOOLEAN,
	  .description = "A Boolean value indicating the User's administrative "
	    "status." },
	{ .name = "password", .type = AT_STRING, .mutability = MUT_WRITEONLY,
	  .returned = RET_NEVER,
	  .description = "The User's cleartext password; never returned." },
	{ .name = "emails", .type = AT_COMPLEX, .multi_valued = true,
	  .sub = emails_sub, .nsub = NSUB(emails_sub),
	  .description = "Email addresses for the user." },
	{ .name = "phoneNumbers", .type = AT_COMPLEX, .multi_valued = true,
	  .sub = phones_sub, .nsub = NSUB(phones_sub),
	  .description = "Phone numbers for the User." },
	{ .name = "ims", .type = AT_COMPLEX, .multi_valued = true,
	  .sub = ims_sub, .nsub = NSUB(ims_sub),
	  .description = "Instant messaging addresses for the User." },
	{ .name = "photos", .type = AT_COMPLEX, .multi_valued = true,
	  .sub = photos_sub, .nsub = NSUB(photos_sub),
	  .description = "URLs of photos of the User." },
	{ .name = "addresses", .type = AT_COMPLEX, .multi_valued = true,
	  .sub = addresses_sub, .nsub = NSUB(addresses_sub),
	  .description = "A physical mailing address for this User." },
	{ .name = "groups", .type = AT_COMPLEX, .multi_valued = true,
	  .mutability = MUT_READONLY, .sub = groups_sub,
	  .nsub = NSUB(groups_sub),
	  .description = "A list of groups to which the user belongs." },
	{ .name = "entitlements", .type = AT_COMPLEX, .multi_valued = true,
	  .sub = entitlements_sub, .nsub = NSUB(entitlements_sub),
	  .description = "A list of entitlements for the User." },
	{ .name = "roles", .type = AT_COMPLEX, .multi_valued = true,
	  .sub = roles_sub, .nsub = NSUB(roles_sub),
	  .description = "A list of roles for the User." },
	{ .name = "x509Certificates", .type = AT_COMPLEX, .multi_valued = true,
	  .sub = x509_sub, .nsub = NSUB(x509_sub),
	  .description = "A list of certificates issued to the User." },
};

static const struct schema_attr manager_sub[] = {
	RW_STRING("value",
	    "The id of the SCIM resource representing the User's manager."),
	{ .name = "$ref", .type = AT_REFERENCE, .ref_types = ref_user,
	  .description = "The URI of the SCIM resource representing the User's "
	    "manager." },
	{ .name = "displayName", .type = AT_STRING, .mutability = MUT_READONLY,
	  .description = "The displayName of the User's manager." },
};

static const struct schema_attr enterprise_attrs[] = {
	RW_STRING("employeeNumber",
	    "Numeric or alphanumeric identifier assigned to a person."),
	RW_STRING("costCenter", "Identifies the name of a cost center."),
	RW_STRING("organization", "Identifies the name of an organization."),
	RW_STRING("division", "Identifies the name of a division."),
	RW_STRING("department", "Identifies the name of a department."),
	{ .name = "manager", .type = AT_COMPLEX, .sub = manager_sub,
	  .nsub = NSUB(manager_sub), .description = "The User's manager." },
};

static const struct schema_attr members_sub[] = {
	{ .name = "value", .type = AT_STRING, .case_exact = true,
	  .mutability = MUT_IMMUTABLE,
	  .description = "Identifier of the member of this Group." },
	{ .name = "$ref", .type = AT_REFERENCE, .mutability = MUT_IMMUTABLE,
	  .ref_types = ref_usergroup,
	  .description = "The URI corresponding to a SCIM resource that is a "
	    "member of this Group." },
	{ .name = "type", .type = AT_STRING, .mutability = MUT_IMMUTABLE,
	  .canonical = type_member,
	  .description = "A label indicating the type of resource, e.g., "
	    "'User' or 'Group'." },
	{ .name = "display", .type = AT_STRING, .mutability = MUT_READONLY,
	  .description = "A human-readable name for the member." },
};

static const struct schema_attr group_attrs[] = {
	{ .name = "displayName", .type = AT_STRING, .required = true,
	  .description = "A human-readable name for the Group." },
	{ .name = "members", .type = AT_COMPLEX, .multi_valued = true,
	  .sub = members_sub, .nsub = NSUB(members_sub),
	  .description = "A list of members of the Group." },
};

static const struct schema_attr meta_sub[] = {
	{ .name = "resourceType", .type = AT_STRING, .case_exact = true,
	  .mutability = MUT_READONLY,
	  .description = "The name of the resource type of the resource." },
	{ .name = "created", .type = AT_DATETIME, .mutability = MUT_READONLY,
	  .description = "The date and time the resource was added." },
	{ .name = "lastModified", .type = AT_DATETIME,
	  .mutability = MUT_READONLY,
	  .description = "The most recent date and time the resource was "
	    "modified." },
	{ .name = "location", .type = AT_REFERENCE, .case_exact = true,
	  .mutability = MUT_READONLY,
	  .description = "The URI of the resource being returned." },
	{ .name = "version", .type = AT_STRING, .case_exact = true,
	  .mutability = MUT_READONLY,
	  .description = "The version of the resource." },
};

/* RFC 7643 section 3.1: attributes of every resource, in no schema. */
static const struct schema_attr common_attrs[] = {
	{ .name = "id", .type = AT_STRING, .case_exact = true,
	  .mutability = MUT_READONLY, .returned = RET_ALWAYS,
	  .uniqueness = UNIQ_SERVER,
	  .description = "A unique identifier for a SCIM resource as defined "
	    "by the service provider." },
	{ .name = "externalId", .type = AT_STRING, .case_exact = true,
	  .description = "An identifier for the resource as defined by the "
	    "provisioning client." },
	{ .name = "meta", .type = AT_COMPLEX, .mutability = MUT_READONLY,
	  .sub = meta_sub, .nsub = NSUB(meta_sub),
	  .description = "A complex attribute containing resource metadata." },
	{ .name = "schemas", .type = AT_REFERENCE, .multi_valued = true,
	  .case_exact = true,
	  .returned = RET_ALWAYS, .required = true,
	  .description = "The schemas of the resource." },
};

const struct schema schema_user = {
	SCHEMA_URN_USER, "User", "User Account",
	user_attrs, NSUB(user_attrs)
};

const struct schema schema_enterprise = {
	SCHEMA_URN_ENTERPRISE, "EnterpriseUser", "Enterprise User",
	enterprise_attrs, NSUB(enterprise_attrs)
};

const struct schema schema_group = {
	SCHEMA_URN_GROUP, "Group", "Group",
	group_attrs, NSUB(group_attrs)
};

const struct schema schema_common = {
	"", "Common", "Attributes of every resource (RFC 7643 section 3.1)",
	common_attrs, NSUB(common_attrs)
};
