import { useId, useState } from 'react';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogContentText from '@material-ui/core/DialogContentText';
import DialogTitle from '@material-ui/core/DialogTitle';
import TextField from '@material-ui/core/TextField';

/** Asks for a comment or a reason before an action: approving, rejecting, freezing, overriding. */
export function ReasonDialog(props: {
  open: boolean;
  title: string;
  description: string;
  label: string;
  confirm: string;
  required?: boolean;
  onClose: () => void;
  onConfirm: (text: string) => Promise<void>;
}) {
  const [text, setText] = useState('');
  const id = useId();
  const [busy, setBusy] = useState(false);
  return (
    <Dialog
      open={props.open}
      onClose={props.onClose}
      fullWidth
      maxWidth="sm"
      aria-labelledby={`${id}-title`}
    >
      <DialogTitle id={`${id}-title`}>{props.title}</DialogTitle>
      <DialogContent>
        <DialogContentText>{props.description}</DialogContentText>
        <TextField
          id={id}
          fullWidth
          multiline
          minRows={2}
          label={props.label}
          value={text}
          required={props.required}
          inputProps={{ maxLength: 4000 }}
          onChange={e => setText(e.target.value)}
        />
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onClose}>Cancel</Button>
        <Button
          color="primary"
          variant="contained"
          disabled={busy || (props.required && !text.trim())}
          onClick={async () => {
            setBusy(true);
            try {
              await props.onConfirm(text.trim());
              setText('');
            } finally {
              setBusy(false);
            }
          }}
        >
          {props.confirm}
        </Button>
      </DialogActions>
    </Dialog>
  );
}
