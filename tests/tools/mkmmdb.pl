#!/usr/bin/perl
# mkmmdb.pl - writes a small MaxMind DB for tests with Debian's
# libmaxmind-db-writer-perl.
#
#   perl tests/tools/mkmmdb.pl OUT.mmdb [--format geoip2|cc0] [--ip-version 6|4]
#                              CIDR=CC[/CONT] ...
#   e.g. 127.0.2.0/24=DE/EU 127.0.3.0/24=FR 2001:db8:de::/48=DE/EU
#
# Codes are written exactly as given (any case, any length, even empty), so tests
# can check how a reader treats "de" or "EUR".
#
# geoip2 records look like GeoIP2/GeoLite2 Country ones:
#   {country: {iso_code: "DE"}, continent: {code: "EU"}}   (continent only if given)
# cc0 records look like the ip-location-db ones: {country_code: "DE"}; a
# continent given on the command line is ignored, as those databases have none.
#
# The tree is IPv6 (ip_version 6) by default, like MaxMind's and ip-location-db's:
# IPv4 networks live in ::/96, and ::ffff:0:0/96 (plus Teredo and 6to4) are
# aliased to it, so readers that look IPv4 up either way find them.
# --ip-version 4 writes an IPv4-only tree (IPv4 networks only). Reserved
# networks are allowed because the tests map loopback ranges such as
# 127.0.2.0/24 to countries.
use strict;
use warnings;

use MaxMind::DB::Writer::Tree;

sub usage {
    print STDERR "usage: $0 OUT.mmdb [--format geoip2|cc0] [--ip-version 6|4]",
        " CIDR=CC[/CONT] ...\n";
    exit 2;
}

my $out = shift @ARGV;
usage() unless defined $out && $out !~ /^-/;
my $format = 'geoip2';
my $ipv    = 6;
my @nets;
while (@ARGV) {
    my $arg = shift @ARGV;
    if ($arg eq '--format') {
        $format = shift @ARGV // usage();
    } elsif ($arg eq '--ip-version') {
        $ipv = shift @ARGV // usage();
    } elsif ($arg =~ m{^([0-9A-Fa-f.:]+/\d+)=([^/]*)(?:/([^/]*))?$}) {
        push @nets, [ $1, $2, $3 ];
    } else {
        print STDERR "$0: bad argument '$arg'\n";
        usage();
    }
}
usage() unless ($format eq 'geoip2' || $format eq 'cc0') && ($ipv eq '4' || $ipv eq '6');

my %types = (
    country      => 'map',
    continent    => 'map',
    iso_code     => 'utf8_string',
    code         => 'utf8_string',
    country_code => 'utf8_string',
);

my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version               => $ipv,
    record_size              => 24,
    database_type            => $format eq 'geoip2' ? 'GeoIP2-Country' : 'country ipvAll',
    languages                => ['en'],
    description              => { en => "dnsd test database ($format)" },
    map_key_type_callback    => sub { $types{ $_[0] } },
    alias_ipv6_to_ipv4       => $ipv == 6 ? 1 : 0,
    remove_reserved_networks => 0,
);

for my $n (@nets) {
    my ($cidr, $cc, $cont) = @$n;
    my $rec;
    if ($format eq 'cc0') {
        $rec = { country_code => $cc };
    } else {
        $rec = { country => { iso_code => $cc } };
        $rec->{continent} = { code => $cont } if defined $cont;
    }
    # In an IPv6 tree the writer places IPv4 networks in ::/96 itself.
    $tree->insert_network($cidr, $rec);
}

# Write next to the target and rename, so a reader never sees half a file.
my $tmp = "$out.tmp.$$";
open my $fh, '>:raw', $tmp or die "$0: cannot write $tmp: $!\n";
$tree->write_tree($fh);
close $fh or die "$0: cannot write $tmp: $!\n";
rename $tmp, $out or die "$0: cannot rename $tmp to $out: $!\n";
