"""sibeval.child: the second process's pipe protocol."""

from sibeval.child import ChildProcess

SERVE = "from sibeval.child import serve; "


def test_the_result_comes_back_even_when_the_child_prints():
    code = SERVE + "print('chatter'); serve(lambda job: (print('more chatter'), [x * 2 for x in job])[1])"
    with ChildProcess(["-c", code], list(range(100_000))) as child:    # job and result beyond a pipe's buffer
        assert child.result() == [x * 2 for x in range(100_000)]


def test_a_failed_child_says_how_it_ended():
    with ChildProcess(["-c", SERVE + "serve(lambda job: job['missing'])"], {}) as child:
        assert child.result() is None
    assert child.why.startswith("exit code 1: KeyError: 'missing'")
    with ChildProcess(["-c", "import sys; sys.stdout.write('not a pickle')"], 1) as child:
        assert child.result() is None and child.why == "exit code 0"
