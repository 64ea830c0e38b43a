# tests/corpus/threads.pl - Perl ithreads under a tracer: workers fed
# through a Thread::Queue, a shared counter locked with lock(), a
# cond_wait/cond_signal handshake and cond_timedwait.  Prints the same
# lines on every run.
use strict;
use warnings;
use threads;
use threads::shared;
use Thread::Queue;

my $total :shared = 0;
my $queue = Thread::Queue->new();
my @workers = map {
	threads->create(sub {
		my $mine = 0;
		while (defined(my $item = $queue->dequeue())) {
			my $v = 0;
			$v += $_ * $_ for 0 .. ($item % 40);
			{ lock($total); $total += $v; }
			$mine++;
		}
		return $mine;
	});
} 1 .. 3;
$queue->enqueue($_) for 1 .. 1500;
$queue->end();
my $handled = 0;
$handled += $_->join() for @workers;
print "queue total $total handled $handled\n";

my $turn :shared = 0;
my $pong = threads->create(sub {
	for my $i (1 .. 200) {
		lock($turn);
		cond_wait($turn) until $turn == 1;
		$turn = 0;
		cond_signal($turn);
	}
});
for my $i (1 .. 200) {
	lock($turn);
	$turn = 1;
	cond_signal($turn);
	cond_timedwait($turn, time() + 10) until $turn == 0;
}
$pong->join();
print "ping-pong done turn $turn\n";
