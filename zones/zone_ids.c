/*
 * zone_ids.c - the zone tree: "@", seven continents and every ISO 3166-1
 * alpha-2 country (plus XK, the user-assigned code for Kosovo that GeoIP
 * databases return), with a built-in country -> continent table.
 *
 * Continents follow the NTP pool's zone layout where it differs from a purely
 * geographic split (cy, tr and ru are in europe, as on pool.ntp.org). GB's zone
 * is named "uk"; "gb" is an alias of it (DESIGN.md "Zones and names").
 *
 * Ids are dense: 0 for "@", 1..7 for continents in alphabetical order, then the
 * countries in alphabetical order of their zone name, so tables indexed by id
 * can be plain arrays and name lookup is a binary search.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "zones/zones.h"

typedef struct zone_country {
    const char *name; /* zone name: lower-case code, "uk" for GB */
    const char *cc;   /* ISO 3166-1 alpha-2 */
    int continent;
} zone_country_t;

static const char *const zone_continents[] = {
    "@",      "africa",        "antarctica", "asia",
    "europe", "north-america", "oceania",    "south-america",
};

/* Continent codes as GeoIP2 writes them, in the order of the ids above. */
static const char *const zone_continent_codes[] = {
    "", "AF", "AN", "AS", "EU", "NA", "OC", "SA",
};

/* Sorted by name (checked by test_zone_ids). */
static const zone_country_t zone_countries[] = {
    {"ad", "AD", ZONE_EUROPE},        {"ae", "AE", ZONE_ASIA},
    {"af", "AF", ZONE_ASIA},          {"ag", "AG", ZONE_NORTH_AMERICA},
    {"ai", "AI", ZONE_NORTH_AMERICA}, {"al", "AL", ZONE_EUROPE},
    {"am", "AM", ZONE_ASIA},          {"ao", "AO", ZONE_AFRICA},
    {"aq", "AQ", ZONE_ANTARCTICA},    {"ar", "AR", ZONE_SOUTH_AMERICA},
    {"as", "AS", ZONE_OCEANIA},       {"at", "AT", ZONE_EUROPE},
    {"au", "AU", ZONE_OCEANIA},       {"aw", "AW", ZONE_NORTH_AMERICA},
    {"ax", "AX", ZONE_EUROPE},        {"az", "AZ", ZONE_ASIA},
    {"ba", "BA", ZONE_EUROPE},        {"bb", "BB", ZONE_NORTH_AMERICA},
    {"bd", "BD", ZONE_ASIA},          {"be", "BE", ZONE_EUROPE},
    {"bf", "BF", ZONE_AFRICA},        {"bg", "BG", ZONE_EUROPE},
    {"bh", "BH", ZONE_ASIA},          {"bi", "BI", ZONE_AFRICA},
    {"bj", "BJ", ZONE_AFRICA},        {"bl", "BL", ZONE_NORTH_AMERICA},
    {"bm", "BM", ZONE_NORTH_AMERICA}, {"bn", "BN", ZONE_ASIA},
    {"bo", "BO", ZONE_SOUTH_AMERICA}, {"bq", "BQ", ZONE_NORTH_AMERICA},
    {"br", "BR", ZONE_SOUTH_AMERICA}, {"bs", "BS", ZONE_NORTH_AMERICA},
    {"bt", "BT", ZONE_ASIA},          {"bv", "BV", ZONE_ANTARCTICA},
    {"bw", "BW", ZONE_AFRICA},        {"by", "BY", ZONE_EUROPE},
    {"bz", "BZ", ZONE_NORTH_AMERICA}, {"ca", "CA", ZONE_NORTH_AMERICA},
    {"cc", "CC", ZONE_ASIA},          {"cd", "CD", ZONE_AFRICA},
    {"cf", "CF", ZONE_AFRICA},        {"cg", "CG", ZONE_AFRICA},
    {"ch", "CH", ZONE_EUROPE},        {"ci", "CI", ZONE_AFRICA},
    {"ck", "CK", ZONE_OCEANIA},       {"cl", "CL", ZONE_SOUTH_AMERICA},
    {"cm", "CM", ZONE_AFRICA},        {"cn", "CN", ZONE_ASIA},
    {"co", "CO", ZONE_SOUTH_AMERICA}, {"cr", "CR", ZONE_NORTH_AMERICA},
    {"cu", "CU", ZONE_NORTH_AMERICA}, {"cv", "CV", ZONE_AFRICA},
    {"cw", "CW", ZONE_NORTH_AMERICA}, {"cx", "CX", ZONE_ASIA},
    {"cy", "CY", ZONE_EUROPE},        {"cz", "CZ", ZONE_EUROPE},
    {"de", "DE", ZONE_EUROPE},        {"dj", "DJ", ZONE_AFRICA},
    {"dk", "DK", ZONE_EUROPE},        {"dm", "DM", ZONE_NORTH_AMERICA},
    {"do", "DO", ZONE_NORTH_AMERICA}, {"dz", "DZ", ZONE_AFRICA},
    {"ec", "EC", ZONE_SOUTH_AMERICA}, {"ee", "EE", ZONE_EUROPE},
    {"eg", "EG", ZONE_AFRICA},        {"eh", "EH", ZONE_AFRICA},
    {"er", "ER", ZONE_AFRICA},        {"es", "ES", ZONE_EUROPE},
    {"et", "ET", ZONE_AFRICA},        {"fi", "FI", ZONE_EUROPE},
    {"fj", "FJ", ZONE_OCEANIA},       {"fk", "FK", ZONE_SOUTH_AMERICA},
    {"fm", "FM", ZONE_OCEANIA},       {"fo", "FO", ZONE_EUROPE},
    {"fr", "FR", ZONE_EUROPE},        {"ga", "GA", ZONE_AFRICA},
    {"gd", "GD", ZONE_NORTH_AMERICA}, {"ge", "GE", ZONE_ASIA},
    {"gf", "GF", ZONE_SOUTH_AMERICA}, {"gg", "GG", ZONE_EUROPE},
    {"gh", "GH", ZONE_AFRICA},        {"gi", "GI", ZONE_EUROPE},
    {"gl", "GL", ZONE_NORTH_AMERICA}, {"gm", "GM", ZONE_AFRICA},
    {"gn", "GN", ZONE_AFRICA},        {"gp", "GP", ZONE_NORTH_AMERICA},
    {"gq", "GQ", ZONE_AFRICA},        {"gr", "GR", ZONE_EUROPE},
    {"gs", "GS", ZONE_ANTARCTICA},    {"gt", "GT", ZONE_NORTH_AMERICA},
    {"gu", "GU", ZONE_OCEANIA},       {"gw", "GW", ZONE_AFRICA},
    {"gy", "GY", ZONE_SOUTH_AMERICA}, {"hk", "HK", ZONE_ASIA},
    {"hm", "HM", ZONE_ANTARCTICA},    {"hn", "HN", ZONE_NORTH_AMERICA},
    {"hr", "HR", ZONE_EUROPE},        {"ht", "HT", ZONE_NORTH_AMERICA},
    {"hu", "HU", ZONE_EUROPE},        {"id", "ID", ZONE_ASIA},
    {"ie", "IE", ZONE_EUROPE},        {"il", "IL", ZONE_ASIA},
    {"im", "IM", ZONE_EUROPE},        {"in", "IN", ZONE_ASIA},
    {"io", "IO", ZONE_ASIA},          {"iq", "IQ", ZONE_ASIA},
    {"ir", "IR", ZONE_ASIA},          {"is", "IS", ZONE_EUROPE},
    {"it", "IT", ZONE_EUROPE},        {"je", "JE", ZONE_EUROPE},
    {"jm", "JM", ZONE_NORTH_AMERICA}, {"jo", "JO", ZONE_ASIA},
    {"jp", "JP", ZONE_ASIA},          {"ke", "KE", ZONE_AFRICA},
    {"kg", "KG", ZONE_ASIA},          {"kh", "KH", ZONE_ASIA},
    {"ki", "KI", ZONE_OCEANIA},       {"km", "KM", ZONE_AFRICA},
    {"kn", "KN", ZONE_NORTH_AMERICA}, {"kp", "KP", ZONE_ASIA},
    {"kr", "KR", ZONE_ASIA},          {"kw", "KW", ZONE_ASIA},
    {"ky", "KY", ZONE_NORTH_AMERICA}, {"kz", "KZ", ZONE_ASIA},
    {"la", "LA", ZONE_ASIA},          {"lb", "LB", ZONE_ASIA},
    {"lc", "LC", ZONE_NORTH_AMERICA}, {"li", "LI", ZONE_EUROPE},
    {"lk", "LK", ZONE_ASIA},          {"lr", "LR", ZONE_AFRICA},
    {"ls", "LS", ZONE_AFRICA},        {"lt", "LT", ZONE_EUROPE},
    {"lu", "LU", ZONE_EUROPE},        {"lv", "LV", ZONE_EUROPE},
    {"ly", "LY", ZONE_AFRICA},        {"ma", "MA", ZONE_AFRICA},
    {"mc", "MC", ZONE_EUROPE},        {"md", "MD", ZONE_EUROPE},
    {"me", "ME", ZONE_EUROPE},        {"mf", "MF", ZONE_NORTH_AMERICA},
    {"mg", "MG", ZONE_AFRICA},        {"mh", "MH", ZONE_OCEANIA},
    {"mk", "MK", ZONE_EUROPE},        {"ml", "ML", ZONE_AFRICA},
    {"mm", "MM", ZONE_ASIA},          {"mn", "MN", ZONE_ASIA},
    {"mo", "MO", ZONE_ASIA},          {"mp", "MP", ZONE_OCEANIA},
    {"mq", "MQ", ZONE_NORTH_AMERICA}, {"mr", "MR", ZONE_AFRICA},
    {"ms", "MS", ZONE_NORTH_AMERICA}, {"mt", "MT", ZONE_EUROPE},
    {"mu", "MU", ZONE_AFRICA},        {"mv", "MV", ZONE_ASIA},
    {"mw", "MW", ZONE_AFRICA},        {"mx", "MX", ZONE_NORTH_AMERICA},
    {"my", "MY", ZONE_ASIA},          {"mz", "MZ", ZONE_AFRICA},
    {"na", "NA", ZONE_AFRICA},        {"nc", "NC", ZONE_OCEANIA},
    {"ne", "NE", ZONE_AFRICA},        {"nf", "NF", ZONE_OCEANIA},
    {"ng", "NG", ZONE_AFRICA},        {"ni", "NI", ZONE_NORTH_AMERICA},
    {"nl", "NL", ZONE_EUROPE},        {"no", "NO", ZONE_EUROPE},
    {"np", "NP", ZONE_ASIA},          {"nr", "NR", ZONE_OCEANIA},
    {"nu", "NU", ZONE_OCEANIA},       {"nz", "NZ", ZONE_OCEANIA},
    {"om", "OM", ZONE_ASIA},          {"pa", "PA", ZONE_NORTH_AMERICA},
    {"pe", "PE", ZONE_SOUTH_AMERICA}, {"pf", "PF", ZONE_OCEANIA},
    {"pg", "PG", ZONE_OCEANIA},       {"ph", "PH", ZONE_ASIA},
    {"pk", "PK", ZONE_ASIA},          {"pl", "PL", ZONE_EUROPE},
    {"pm", "PM", ZONE_NORTH_AMERICA}, {"pn", "PN", ZONE_OCEANIA},
    {"pr", "PR", ZONE_NORTH_AMERICA}, {"ps", "PS", ZONE_ASIA},
    {"pt", "PT", ZONE_EUROPE},        {"pw", "PW", ZONE_OCEANIA},
    {"py", "PY", ZONE_SOUTH_AMERICA}, {"qa", "QA", ZONE_ASIA},
    {"re", "RE", ZONE_AFRICA},        {"ro", "RO", ZONE_EUROPE},
    {"rs", "RS", ZONE_EUROPE},        {"ru", "RU", ZONE_EUROPE},
    {"rw", "RW", ZONE_AFRICA},        {"sa", "SA", ZONE_ASIA},
    {"sb", "SB", ZONE_OCEANIA},       {"sc", "SC", ZONE_AFRICA},
    {"sd", "SD", ZONE_AFRICA},        {"se", "SE", ZONE_EUROPE},
    {"sg", "SG", ZONE_ASIA},          {"sh", "SH", ZONE_AFRICA},
    {"si", "SI", ZONE_EUROPE},        {"sj", "SJ", ZONE_EUROPE},
    {"sk", "SK", ZONE_EUROPE},        {"sl", "SL", ZONE_AFRICA},
    {"sm", "SM", ZONE_EUROPE},        {"sn", "SN", ZONE_AFRICA},
    {"so", "SO", ZONE_AFRICA},        {"sr", "SR", ZONE_SOUTH_AMERICA},
    {"ss", "SS", ZONE_AFRICA},        {"st", "ST", ZONE_AFRICA},
    {"sv", "SV", ZONE_NORTH_AMERICA}, {"sx", "SX", ZONE_NORTH_AMERICA},
    {"sy", "SY", ZONE_ASIA},          {"sz", "SZ", ZONE_AFRICA},
    {"tc", "TC", ZONE_NORTH_AMERICA}, {"td", "TD", ZONE_AFRICA},
    {"tf", "TF", ZONE_ANTARCTICA},    {"tg", "TG", ZONE_AFRICA},
    {"th", "TH", ZONE_ASIA},          {"tj", "TJ", ZONE_ASIA},
    {"tk", "TK", ZONE_OCEANIA},       {"tl", "TL", ZONE_ASIA},
    {"tm", "TM", ZONE_ASIA},          {"tn", "TN", ZONE_AFRICA},
    {"to", "TO", ZONE_OCEANIA},       {"tr", "TR", ZONE_EUROPE},
    {"tt", "TT", ZONE_NORTH_AMERICA}, {"tv", "TV", ZONE_OCEANIA},
    {"tw", "TW", ZONE_ASIA},          {"tz", "TZ", ZONE_AFRICA},
    {"ua", "UA", ZONE_EUROPE},        {"ug", "UG", ZONE_AFRICA},
    {"uk", "GB", ZONE_EUROPE},        {"um", "UM", ZONE_OCEANIA},
    {"us", "US", ZONE_NORTH_AMERICA}, {"uy", "UY", ZONE_SOUTH_AMERICA},
    {"uz", "UZ", ZONE_ASIA},          {"va", "VA", ZONE_EUROPE},
    {"vc", "VC", ZONE_NORTH_AMERICA}, {"ve", "VE", ZONE_SOUTH_AMERICA},
    {"vg", "VG", ZONE_NORTH_AMERICA}, {"vi", "VI", ZONE_NORTH_AMERICA},
    {"vn", "VN", ZONE_ASIA},          {"vu", "VU", ZONE_OCEANIA},
    {"wf", "WF", ZONE_OCEANIA},       {"ws", "WS", ZONE_OCEANIA},
    {"xk", "XK", ZONE_EUROPE},        {"ye", "YE", ZONE_ASIA},
    {"yt", "YT", ZONE_AFRICA},        {"za", "ZA", ZONE_AFRICA},
    {"zm", "ZM", ZONE_AFRICA},        {"zw", "ZW", ZONE_AFRICA},
};

#define N_CONTINENTS ((int)(sizeof zone_continents / sizeof zone_continents[0]))
#define N_COUNTRIES ((int)(sizeof zone_countries / sizeof zone_countries[0]))

_Static_assert(ZONE_FIRST_COUNTRY == 8, "continent ids are 1..7");
_Static_assert(ZONE_FIRST_COUNTRY + sizeof zone_countries / sizeof zone_countries[0] <=
                   ZONE_ID_MAX,
               "ZONE_ID_MAX bounds every id");

int zone_id_count(void)
{
    return ZONE_FIRST_COUNTRY + N_COUNTRIES;
}

static int zone_country_find(const char *name, size_t len)
{
    int lo = 0, hi = N_COUNTRIES - 1;
    char key[3];

    if (len != 2)
        return -1;
    key[0] = (char)(name[0] | 0x20);
    key[1] = (char)(name[1] | 0x20);
    key[2] = '\0';
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(key, zone_countries[mid].name);
        if (c == 0)
            return ZONE_FIRST_COUNTRY + mid;
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return -1;
}

int zone_id_lookup(const char *name, size_t len)
{
    if (len == 1 && name[0] == '@')
        return ZONE_GLOBAL;
    for (int i = 1; i < N_CONTINENTS; i++)
        if (strlen(zone_continents[i]) == len &&
            strncasecmp(name, zone_continents[i], len) == 0)
            return i;
    if (len == 2 && (name[0] | 0x20) == 'g' && (name[1] | 0x20) == 'b')
        return zone_country_find("uk", 2);
    return zone_country_find(name, len);
}

const char *zone_id_name(int id)
{
    if (id >= 0 && id < N_CONTINENTS)
        return zone_continents[id];
    if (id >= ZONE_FIRST_COUNTRY && id < zone_id_count())
        return zone_countries[id - ZONE_FIRST_COUNTRY].name;
    return NULL;
}

/*
 * Country code -> id on the query path (once per geo answer): a 26 x 26 table
 * filled before main() runs, so a lookup is two range checks and one load
 * instead of a binary search of string compares. 0 marks "no such code".
 */
static int16_t zone_cc_table[26][26];

__attribute__((constructor)) static void zone_cc_table_init(void)
{
    for (int i = 0; i < N_COUNTRIES; i++) {
        const char *cc = zone_countries[i].cc;
        zone_cc_table[cc[0] - 'A'][cc[1] - 'A'] = (int16_t)(ZONE_FIRST_COUNTRY + i);
    }
    /* "UK" is reserved in ISO 3166 for GB; both reach the same zone. */
    zone_cc_table['U' - 'A']['K' - 'A'] = zone_cc_table['G' - 'A']['B' - 'A'];
}

int zone_id_from_cc(const char *cc)
{
    if (!cc || !cc[0] || !cc[1] || cc[2])
        return -1;
    unsigned a = (unsigned)((cc[0] & ~0x20) - 'A'), b = (unsigned)((cc[1] & ~0x20) - 'A');
    if (a >= 26 || b >= 26 || !zone_cc_table[a][b])
        return -1;
    return zone_cc_table[a][b];
}

int zone_id_from_continent_code(const char *code)
{
    if (!code || strlen(code) != 2)
        return -1;
    for (int i = 1; i < N_CONTINENTS; i++)
        if (strcasecmp(code, zone_continent_codes[i]) == 0)
            return i;
    return -1;
}

int zone_id_continent(int id)
{
    if (id >= 0 && id < N_CONTINENTS)
        return id;
    if (id >= ZONE_FIRST_COUNTRY && id < zone_id_count())
        return zone_countries[id - ZONE_FIRST_COUNTRY].continent;
    return -1;
}

bool zone_id_is_country(int id)
{
    return id >= ZONE_FIRST_COUNTRY && id < zone_id_count();
}

bool zone_id_is_continent(int id)
{
    return id >= 1 && id < N_CONTINENTS;
}

size_t zone_walk_geo(int country, int continent, int walk[3])
{
    size_t n = 0;

    if (zone_id_is_country(country))
        walk[n++] = country;
    if (zone_id_is_continent(continent))
        walk[n++] = continent;
    walk[n++] = ZONE_GLOBAL;
    return n;
}

size_t zone_walk(int id, int walk[3])
{
    if (zone_id_is_country(id))
        return zone_walk_geo(id, zone_id_continent(id), walk);
    return zone_walk_geo(-1, id, walk);
}
