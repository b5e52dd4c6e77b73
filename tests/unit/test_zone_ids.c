/* test_zone_ids.c - the zone tree: names, aliases, the country table. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "zones/zones.h"

static void test_names(void)
{
    CHECK_INT_EQ(zone_id_lookup("@", 1), ZONE_GLOBAL);
    CHECK_INT_EQ(zone_id_lookup("europe", 6), ZONE_EUROPE);
    CHECK_INT_EQ(zone_id_lookup("North-America", 13), ZONE_NORTH_AMERICA);
    CHECK_INT_EQ(zone_id_lookup("south-america", 13), ZONE_SOUTH_AMERICA);
    CHECK_INT_EQ(zone_id_lookup("eu", 2), -1); /* a continent code is not a zone name */
    CHECK_INT_EQ(zone_id_lookup("xx", 2), -1);
    CHECK_INT_EQ(zone_id_lookup("", 0), -1);
    CHECK_INT_EQ(zone_id_lookup("deu", 3), -1);

    int de = zone_id_lookup("de", 2), uk = zone_id_lookup("uk", 2);
    CHECK(zone_id_is_country(de));
    CHECK_STR_EQ(zone_id_name(de), "de");
    CHECK_INT_EQ(zone_id_lookup("DE", 2), de);
    CHECK_INT_EQ(zone_id_lookup("gb", 2), uk); /* gb is an alias of uk */
    CHECK_INT_EQ(zone_id_from_cc("GB"), uk);
    CHECK_INT_EQ(zone_id_from_cc("UK"), uk);
    CHECK_INT_EQ(zone_id_from_cc("de"), de);
    CHECK_INT_EQ(zone_id_from_cc("ZZ"), -1);
    CHECK_INT_EQ(zone_id_from_cc("D"), -1);
    static const char *const junk[] = {"",    "1A", "A[",       "@A",
                                       "ABC", "Z{", "\xc4\xd6", "A1"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        CHECK_INT_EQ(zone_id_from_cc(junk[i]), -1);
    CHECK_STR_EQ(zone_id_name(uk), "uk");
    CHECK(zone_id_name(zone_id_count()) == NULL);
    CHECK(zone_id_name(-1) == NULL);
}

static void test_continents(void)
{
    CHECK_INT_EQ(zone_id_continent(zone_id_from_cc("DE")), ZONE_EUROPE);
    CHECK_INT_EQ(zone_id_continent(zone_id_from_cc("US")), ZONE_NORTH_AMERICA);
    CHECK_INT_EQ(zone_id_continent(zone_id_from_cc("BR")), ZONE_SOUTH_AMERICA);
    CHECK_INT_EQ(zone_id_continent(zone_id_from_cc("JP")), ZONE_ASIA);
    CHECK_INT_EQ(zone_id_continent(zone_id_from_cc("AU")), ZONE_OCEANIA);
    CHECK_INT_EQ(zone_id_continent(zone_id_from_cc("ZA")), ZONE_AFRICA);
    CHECK_INT_EQ(zone_id_continent(zone_id_from_cc("AQ")), ZONE_ANTARCTICA);
    CHECK_INT_EQ(zone_id_continent(ZONE_EUROPE), ZONE_EUROPE);
    CHECK_INT_EQ(zone_id_continent(ZONE_GLOBAL), ZONE_GLOBAL);
    CHECK_INT_EQ(zone_id_from_continent_code("EU"), ZONE_EUROPE);
    CHECK_INT_EQ(zone_id_from_continent_code("na"), ZONE_NORTH_AMERICA);
    CHECK_INT_EQ(zone_id_from_continent_code("XX"), -1);

    int walk[3];
    CHECK_INT_EQ(zone_walk(zone_id_from_cc("FR"), walk), 3);
    CHECK_INT_EQ(walk[0], zone_id_from_cc("FR"));
    CHECK_INT_EQ(walk[1], ZONE_EUROPE);
    CHECK_INT_EQ(walk[2], ZONE_GLOBAL);
    CHECK_INT_EQ(zone_walk(ZONE_ASIA, walk), 2);
    CHECK_INT_EQ(walk[0], ZONE_ASIA);
    CHECK_INT_EQ(walk[1], ZONE_GLOBAL);
    CHECK_INT_EQ(zone_walk(ZONE_GLOBAL, walk), 1);
}

/* Every id round-trips through its name, names are sorted and unique (the
 * lookup is a binary search), every country has a continent, and all 249
 * ISO 3166-1 codes plus XK are present. */
static void test_table(void)
{
    int countries = 0;
    for (int id = 0; id < zone_id_count(); id++) {
        const char *name = zone_id_name(id);
        CHECK(name != NULL);
        if (!name)
            continue;
        CHECK_INT_EQ(zone_id_lookup(name, strlen(name)), id);
        if (id > ZONE_FIRST_COUNTRY)
            CHECK(strcmp(zone_id_name(id - 1), name) < 0);
        if (zone_id_is_country(id)) {
            char upper[3] = {(char)(name[0] & ~0x20), (char)(name[1] & ~0x20), 0};
            CHECK_INT_EQ(zone_id_from_cc(upper), id);
            CHECK_INT_EQ(zone_id_from_cc(name), id);
            countries++;
            CHECK(zone_id_is_continent(zone_id_continent(id)));
        }
    }
    CHECK_INT_EQ(countries, 250);
    CHECK(zone_id_count() <= ZONE_ID_MAX);
}

int main(void)
{
    test_names();
    test_continents();
    test_table();
    return check_summary("test_zone_ids");
}
